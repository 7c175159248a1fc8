// Module entry: exports every function registered with LWLR_EXPORT, plus thread control.
#include "addon.h"
#include <omp.h>

namespace lwlr {

std::vector<Registration>& registry() {
  static std::vector<Registration> r;
  return r;
}

dnnl::engine& cpuEngine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}

static Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n >= 1) omp_set_num_threads(n);
  return info.Env().Undefined();
}

static Napi::Value Version(const Napi::CallbackInfo& info) {
  const dnnl_version_t* v = dnnl_version();
  return Napi::String::New(info.Env(), std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                           std::to_string(v->patch));
}

LWLR_EXPORT("getNumThreads", GetNumThreads);
LWLR_EXPORT("setNumThreads", SetNumThreads);
LWLR_EXPORT("dnnlVersion", Version);

}  // namespace lwlr

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  for (const auto& r : lwlr::registry()) exports.Set(r.name, Napi::Function::New(env, r.fn, r.name));
  return exports;
}

NODE_API_MODULE(onednn, InitAddon)
