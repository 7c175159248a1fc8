{
  "targets": [
    {
      "target_name": "onednn",
      "sources": [ "<!@(node -p \"require('fs').readdirSync('native').filter(f => f.endsWith('.cc')).sort().map(f => 'native/' + f).join(' ')\")" ],
      "include_dirs": [ "<!@(node -p \"require('node-addon-api').include\")", "native" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS" ],
      "libraries": [ "-ldnnl", "-fopenmp" ],
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti" ],
      "cflags_cc": [ "-std=c++17", "-O3", "-fno-math-errno", "-fexceptions", "-frtti", "-fopenmp", "-Wno-unused-parameter" ]
    }
  ]
}
