// 2-D convolutions on oneDNN: forward (with fused bias + activation), backward data, backward weights, for
// regular (groups = 1) and depthwise (groups = in channels, any channel multiplier) convolutions.
//
// Layouts: activations are tfjs's NHWC (or NCHW for regular convs), used in place. Weights are tfjs's
// [KH, KW, IC, OC] (regular) or [KH, KW, IC, multiplier] (depthwise); by default the primitive chooses its
// weight layout (format_tag::any) and a cached reorder converts them each call (LWLR_CONV_WEIGHTS=plain
// makes the primitive use the tfjs layout directly). For backward weights the primitive writes its own
// layout and a reorder converts to tfjs's (LWLR_CONV_DW=plain: write tfjs's layout directly).
//
// Parameter array p (tfjs numbers; oneDNN dilation = tfjs dilation - 1 is applied here):
//   [N, IH, IW, IC, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G, NCHW]
#include <cstdlib>
#include <cstring>

#include "dnnl-cache.h"

namespace lwlr {
namespace mm {

namespace {

struct ConvParams {
  int64_t N, IH, IW, IC, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G;
  bool nchw;
};

ConvParams parseConv(const Napi::Value& v) {
  std::vector<int64_t> p = dims(v);
  if (p.size() != 19) throw std::runtime_error("conv: expected 19 parameters");
  ConvParams c{p[0], p[1], p[2],  p[3],  p[4],  p[5],  p[6],  p[7],  p[8],
               p[9], p[10], p[11], p[12], p[13], p[14], p[15], p[16], p[17], p[18] != 0};
  if (c.G < 1 || c.IC % c.G != 0 || c.OC % c.G != 0) throw std::runtime_error("conv: bad groups");
  return c;
}

void keyOf(Key& k, const ConvParams& c) {
  k << c.N << c.IH << c.IW << c.IC << c.OH << c.OW << c.OC << c.KH << c.KW << c.SH << c.SW << c.DH << c.DW << c.PT
    << c.PL << c.PB << c.PR << c.G << int64_t(c.nchw);
}

memory::desc actDesc(int64_t n, int64_t ch, int64_t h, int64_t w, bool nchw) {
  return memory::desc({n, ch, h, w}, dt::f32, nchw ? tag::nchw : tag::nhwc);
}

// tfjs weights as a oneDNN descriptor (logical oihw / goihw dims with the strides of tfjs's layout).
memory::desc userWeightsDesc(const ConvParams& c) {
  if (c.G == 1) {
    // [KH, KW, IC, OC] = hwio
    return memory::desc({c.OC, c.IC, c.KH, c.KW}, dt::f32, tag::hwio);
  }
  const int64_t mult = c.OC / c.G, icg = c.IC / c.G;
  if (icg != 1) throw std::runtime_error("conv: grouped weights other than depthwise are not supported");
  // [KH, KW, G, mult]: dims {G, mult, 1, KH, KW}
  return memory::desc({c.G, mult, 1, c.KH, c.KW}, dt::f32,
                      memory::dims{mult, 1, 1, c.KW * c.G * mult, c.G * mult});
}

memory::desc anyWeightsDesc(const ConvParams& c) {
  if (c.G == 1) return memory::desc({c.OC, c.IC, c.KH, c.KW}, dt::f32, tag::any);
  return memory::desc({c.G, c.OC / c.G, c.IC / c.G, c.KH, c.KW}, dt::f32, tag::any);
}

bool envIs(const char* name, const char* value) {
  const char* s = std::getenv(name);
  return s && std::strcmp(s, value) == 0;
}

bool plainWeights() {
  static bool v = envIs("LWLR_CONV_WEIGHTS", "plain");
  return v;
}
bool plainDiffWeights() {
  static bool v = envIs("LWLR_CONV_DW", "plain");
  return v;
}

dnnl::convolution_forward::desc fwdDesc(const ConvParams& c, const memory::desc& src, const memory::desc& w,
                                        const memory::desc* bias, const memory::desc& dst) {
  memory::dims strides{c.SH, c.SW}, dil{c.DH - 1, c.DW - 1}, pl{c.PT, c.PL}, pr{c.PB, c.PR};
  if (bias)
    return dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                           src, w, *bias, dst, strides, dil, pl, pr);
  return dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
                                         w, dst, strides, dil, pl, pr);
}

// Weights handed to a primitive: either the user's memory directly, or a reorder into the primitive's layout.
struct WeightsIn {
  memory user, prim;
  bool reorder = false;
  void init(const memory::desc& userMd, const memory::desc& primMd) {
    auto& eng = cpuEngine();
    user = memory(userMd, eng, DNNL_MEMORY_NONE);
    reorder = !(userMd == primMd);
    prim = reorder ? memory(primMd, eng, DNNL_MEMORY_NONE) : user;
  }
  // Sets the user pointer and returns the memory to give to the primitive (reordered into the shared
  // scratch buffer when the layouts differ: no per-primitive copy of the weights is kept).
  memory& bind(float* w) {
    user.set_data_handle(w);
    if (reorder) {
      prim.set_data_handle(weightScratch(prim.get_desc().get_size()));
      cachedReorder(user.get_desc(), prim.get_desc()).execute(cpuStream(), user, prim);
    }
    return prim;
  }
};

struct ConvFwdEntry {
  dnnl::convolution_forward prim;
  UserScratchpad scratch;
  memory src, dst, bias;
  WeightsIn w;
  bool hasBias = false;
  std::string impl;
};

struct ConvBwdDataEntry {
  dnnl::convolution_backward_data prim;
  UserScratchpad scratch;
  memory diffDst, diffSrc;
  WeightsIn w;
  std::string impl;
};

struct ConvBwdWeightsEntry {
  dnnl::convolution_backward_weights prim;
  UserScratchpad scratch;
  memory src, diffDst, userDw, primDw;
  bool reorder = false;
  std::string impl;
};

LruCache<ConvFwdEntry>& fwdCache() {
  static LruCache<ConvFwdEntry> c(cacheCapacity());
  return c;
}
LruCache<ConvBwdDataEntry>& bwdDataCache() {
  static LruCache<ConvBwdDataEntry> c(cacheCapacity());
  return c;
}
LruCache<ConvBwdWeightsEntry>& bwdWeightsCache() {
  static LruCache<ConvBwdWeightsEntry> c(cacheCapacity());
  return c;
}

dnnl::convolution_forward::primitive_desc fwdHint(const ConvParams& c) {
  auto src = actDesc(c.N, c.IC, c.IH, c.IW, c.nchw), dst = actDesc(c.N, c.OC, c.OH, c.OW, c.nchw);
  auto w = plainWeights() ? userWeightsDesc(c) : anyWeightsDesc(c);
  return dnnl::convolution_forward::primitive_desc(fwdDesc(c, src, w, nullptr, dst), cpuEngine());
}

}  // namespace

// conv2d(x, w, y, p, bias|null, activation, alpha) -> implementation name
static Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2d", [&]() -> Napi::Value {
    float* X = f32(info[0]);
    float* W = f32(info[1]);
    float* Y = f32(info[2]);
    ConvParams c = parseConv(info[3]);
    float* bias = optF32(info[4]);
    std::string act = optString(info[5]);
    float alpha = optNumber(info[6], 0.f);
    Key key("cf:");
    keyOf(key, c);
    key << int64_t(bias != nullptr) << act << alpha;
    auto& cache = fwdCache();
    auto e = cache.get(key.s);
    if (!e) {
      e = std::make_shared<ConvFwdEntry>();
      auto& eng = cpuEngine();
      auto src = actDesc(c.N, c.IC, c.IH, c.IW, c.nchw), dst = actDesc(c.N, c.OC, c.OH, c.OW, c.nchw);
      auto wu = userWeightsDesc(c);
      auto w = plainWeights() ? wu : anyWeightsDesc(c);
      memory::desc bmd({c.OC}, dt::f32, tag::x);
      dnnl::post_ops po;
      if (!appendActivation(po, act, alpha)) throw std::runtime_error("unsupported activation " + act);
      dnnl::primitive_attr attr = withUserScratchpad();
      attr.set_post_ops(po);
      dnnl::convolution_forward::primitive_desc pd(fwdDesc(c, src, w, bias ? &bmd : nullptr, dst), attr, eng);
      e->prim = dnnl::convolution_forward(pd);
      e->scratch.init(pd.scratchpad_desc());
      e->src = memory(src, eng, DNNL_MEMORY_NONE);
      e->dst = memory(dst, eng, DNNL_MEMORY_NONE);
      if (bias) e->bias = memory(bmd, eng, DNNL_MEMORY_NONE);
      e->hasBias = bias != nullptr;
      e->w.init(wu, pd.weights_desc());
      e->impl = pd.impl_info_str();
      cache.put(key.s, e);
    }
    e->src.set_data_handle(X);
    e->dst.set_data_handle(Y);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e->src}, {DNNL_ARG_WEIGHTS, e->w.bind(W)}, {DNNL_ARG_DST, e->dst}};
    if (e->hasBias) {
      e->bias.set_data_handle(bias);
      args.emplace(DNNL_ARG_BIAS, e->bias);
    }
    e->scratch.bind(args);
    e->prim.execute(cpuStream(), args);
    cpuStream().wait();
    return Napi::String::New(info.Env(), e->impl);
  });
}

// conv2dBackpropInput(dy, w, dx, p) -> implementation name
static Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dBackpropInput", [&]() -> Napi::Value {
    float* DY = f32(info[0]);
    float* W = f32(info[1]);
    float* DX = f32(info[2]);
    ConvParams c = parseConv(info[3]);
    Key key("cd:");
    keyOf(key, c);
    auto& cache = bwdDataCache();
    auto e = cache.get(key.s);
    if (!e) {
      e = std::make_shared<ConvBwdDataEntry>();
      auto& eng = cpuEngine();
      auto dsrc = actDesc(c.N, c.IC, c.IH, c.IW, c.nchw), ddst = actDesc(c.N, c.OC, c.OH, c.OW, c.nchw);
      auto wu = userWeightsDesc(c);
      auto w = plainWeights() ? wu : anyWeightsDesc(c);
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, dsrc, w, ddst, {c.SH, c.SW},
                                              {c.DH - 1, c.DW - 1}, {c.PT, c.PL}, {c.PB, c.PR});
      dnnl::convolution_backward_data::primitive_desc pd(d, withUserScratchpad(), eng, fwdHint(c));
      e->prim = dnnl::convolution_backward_data(pd);
      e->scratch.init(pd.scratchpad_desc());
      e->diffDst = memory(ddst, eng, DNNL_MEMORY_NONE);
      e->diffSrc = memory(dsrc, eng, DNNL_MEMORY_NONE);
      e->w.init(wu, pd.weights_desc());
      e->impl = pd.impl_info_str();
      cache.put(key.s, e);
    }
    e->diffDst.set_data_handle(DY);
    e->diffSrc.set_data_handle(DX);
    std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, e->diffDst}, {DNNL_ARG_WEIGHTS, e->w.bind(W)}, {DNNL_ARG_DIFF_SRC, e->diffSrc}};
    e->scratch.bind(args);
    e->prim.execute(cpuStream(), args);
    cpuStream().wait();
    return Napi::String::New(info.Env(), e->impl);
  });
}

// conv2dBackpropFilter(x, dy, dw, p) -> implementation name
static Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dBackpropFilter", [&]() -> Napi::Value {
    float* X = f32(info[0]);
    float* DY = f32(info[1]);
    float* DW = f32(info[2]);
    ConvParams c = parseConv(info[3]);
    Key key("cw:");
    keyOf(key, c);
    auto& cache = bwdWeightsCache();
    auto e = cache.get(key.s);
    if (!e) {
      e = std::make_shared<ConvBwdWeightsEntry>();
      auto& eng = cpuEngine();
      auto src = actDesc(c.N, c.IC, c.IH, c.IW, c.nchw), ddst = actDesc(c.N, c.OC, c.OH, c.OW, c.nchw);
      auto wu = userWeightsDesc(c);
      auto w = plainDiffWeights() ? wu : anyWeightsDesc(c);
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, src, w, ddst, {c.SH, c.SW},
                                                 {c.DH - 1, c.DW - 1}, {c.PT, c.PL}, {c.PB, c.PR});
      dnnl::convolution_backward_weights::primitive_desc pd(d, withUserScratchpad(), eng, fwdHint(c));
      e->prim = dnnl::convolution_backward_weights(pd);
      e->scratch.init(pd.scratchpad_desc());
      e->src = memory(src, eng, DNNL_MEMORY_NONE);
      e->diffDst = memory(ddst, eng, DNNL_MEMORY_NONE);
      e->userDw = memory(wu, eng, DNNL_MEMORY_NONE);
      e->reorder = !(pd.diff_weights_desc() == wu);
      e->primDw = e->reorder ? memory(pd.diff_weights_desc(), eng, DNNL_MEMORY_NONE) : e->userDw;
      e->impl = pd.impl_info_str();
      cache.put(key.s, e);
    }
    e->src.set_data_handle(X);
    e->diffDst.set_data_handle(DY);
    e->userDw.set_data_handle(DW);
    if (e->reorder) e->primDw.set_data_handle(weightScratch(e->primDw.get_desc().get_size()));
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e->src}, {DNNL_ARG_DIFF_DST, e->diffDst}, {DNNL_ARG_DIFF_WEIGHTS, e->primDw}};
    e->scratch.bind(args);
    e->prim.execute(cpuStream(), args);
    if (e->reorder) cachedReorder(e->primDw.get_desc(), e->userDw.get_desc()).execute(cpuStream(), e->primDw, e->userDw);
    cpuStream().wait();
    return Napi::String::New(info.Env(), e->impl);
  });
}

LWLR_EXPORT("conv2d", Conv2d);
LWLR_EXPORT("conv2dBackpropInput", Conv2dBackpropInput);
LWLR_EXPORT("conv2dBackpropFilter", Conv2dBackpropFilter);

}  // namespace mm
}  // namespace lwlr
