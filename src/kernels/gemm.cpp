#include "kernels/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/parallel.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/precision.hpp"

#ifdef NEUNCUT_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#endif

namespace neuncut::detail {

void Bf16Matrix::assign(const Eigen::Ref<const MatrixF>& m, int threads) {
  rows_ = m.rows();
  cols_ = m.cols();
  values_.resize(static_cast<std::size_t>(rows_ * cols_));
  parallel_blocks(rows_, threads, [&](Index lo, Index hi) {
    for (Index i = lo; i < hi; ++i) {
      const float* in = m.row(i).data();
      std::uint16_t* out = values_.data() + i * cols_;
      for (Index j = 0; j < cols_; ++j) out[j] = round_to_bf16(in[j]);
    }
  });
}

// Eigen's GEMM on operand views (the fp32 reference, and the fp32 backend without oneDNN).
namespace {

using StridedMap = Eigen::Map<const MatrixF, 0, Eigen::OuterStride<>>;

StridedMap stored(const GemmOperand& op) {
  return op.transposed ? StridedMap(op.data, op.cols, op.rows, Eigen::OuterStride<>(op.ld))
                       : StridedMap(op.data, op.rows, op.cols, Eigen::OuterStride<>(op.ld));
}

void eigen_gemm(const GemmOperand& a, const GemmOperand& b, float* c, Index ldc, const float* bias, bool relu) {
  Eigen::Map<MatrixF, 0, Eigen::OuterStride<>> C(c, a.rows, b.cols, Eigen::OuterStride<>(ldc));
  const StridedMap A = stored(a), B = stored(b);
  if (a.transposed && b.transposed) C.noalias() = A.transpose() * B.transpose();
  else if (a.transposed) C.noalias() = A.transpose() * B;
  else if (b.transposed) C.noalias() = A * B.transpose();
  else C.noalias() = A * B;
  if (bias) C.rowwise() += Eigen::Map<const VectorF>(bias, b.cols).transpose();
  if (relu) C = C.cwiseMax(0.0f);
}

// An empty sum: C = bias (then ReLU), as the product defines it.
void empty_product(Index rows, Index cols, float* c, Index ldc, const float* bias, bool relu) {
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) {
      const float v = bias ? bias[j] : 0.0f;
      c[i * ldc + j] = relu ? std::max(v, 0.0f) : v;
    }
}

#ifdef NEUNCUT_HAVE_ONEDNN
constexpr bool kHaveOneDnn = true;
#else
constexpr bool kHaveOneDnn = false;
#endif

Fp32GemmBackend initial_backend() {
  const char* env = std::getenv("NEUNCUT_FP32_GEMM");
  if (env && std::strcmp(env, "eigen") == 0) return Fp32GemmBackend::Eigen;
  return kHaveOneDnn ? Fp32GemmBackend::OneDnn : Fp32GemmBackend::Eigen;
}

std::atomic<Fp32GemmBackend>& backend_setting() {
  static std::atomic<Fp32GemmBackend> backend{initial_backend()};
  return backend;
}

}  // namespace

Fp32GemmBackend fp32_gemm_backend() { return backend_setting().load(std::memory_order_relaxed); }

void set_fp32_gemm_backend(Fp32GemmBackend backend) {
  NEUNCUT_REQUIRE(backend == Fp32GemmBackend::Eigen || kHaveOneDnn, InvalidArgument,
                  "oneDNN fp32 products are unavailable: neuncut was built without oneDNN");
  backend_setting().store(backend, std::memory_order_relaxed);
}

#ifndef NEUNCUT_HAVE_ONEDNN

std::string bf16_backend_unavailable_reason() {
  return "neuncut was built without oneDNN (install libdnnl-dev and configure with -DNEUNCUT_WITH_ONEDNN=ON)";
}

std::size_t gemm_cached_shapes() { return 0; }

std::string onednn_cpu_isa() { return ""; }

#else

namespace {
// Whether oneDNN's effective instruction set in this process includes `isa` (cpu_isa values
// are bit sets of features, each a superset of the narrower ones).
bool onednn_isa_includes(dnnl::cpu_isa isa) {
  const auto have = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bits = static_cast<unsigned>(isa);
  return (have & bits) == bits;
}
}  // namespace

std::string bf16_backend_unavailable_reason() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16"))
    return "this CPU has no AVX512_BF16 instructions (bf16 needs Intel Cooper Lake, Sapphire Rapids or later, "
           "or AMD Zen 4 or later)";
#else
  return "bf16 is supported on x86-64 CPUs with AVX512_BF16 only";
#endif
  // The CPU has it; oneDNN may still be told not to use it (ONEDNN_MAX_CPU_ISA), and then
  // it would emulate bf16, slower than fp32.
  if (!onednn_isa_includes(dnnl::cpu_isa::avx512_core_bf16))
    return "oneDNN is limited to an instruction set without AVX512_BF16 (is ONEDNN_MAX_CPU_ISA set?)";
  return "";
}

std::string onednn_cpu_isa() {
  // Largest first: the names of oneDNN's cpu_isa values (each a superset of those below it).
  using dnnl::cpu_isa;
  const std::pair<cpu_isa, const char*> names[] = {{cpu_isa::avx512_core_amx, "avx512_core_amx"},
                                                   {cpu_isa::avx512_core_bf16, "avx512_core_bf16"},
                                                   {cpu_isa::avx512_core_vnni, "avx512_core_vnni"},
                                                   {cpu_isa::avx512_core, "avx512_core"},
                                                   {cpu_isa::avx2_vnni, "avx2_vnni"},
                                                   {cpu_isa::avx2, "avx2"},
                                                   {cpu_isa::avx, "avx"},
                                                   {cpu_isa::sse41, "sse41"}};
  for (const auto& [value, name] : names)
    if (onednn_isa_includes(value)) return name;
  return "generic (no JIT kernels)";
}

namespace {

using dnnl::memory;
using Bytes = std::vector<unsigned char, Eigen::aligned_allocator<unsigned char>>;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// f32 layout of an operand used as rows x cols: row-major, or the transpose of a row-major
// cols x rows matrix (strides swapped).
memory::desc f32_desc(const GemmOperand& op) {
  const memory::dims strides = op.transposed ? memory::dims{1, op.ld} : memory::dims{op.ld, 1};
  return memory::desc({op.rows, op.cols}, memory::data_type::f32, strides);
}

// Everything one problem shape needs, made once. In fp32 the matmul reads the operands where
// they are (no reorders); in bf16 both are converted first.
struct Plan {
  bool bf16 = false;
  bool a_given_bf16 = false, b_given_bf16 = false;  // operands handed over already in bf16: no conversion
  memory::desc a_f32, a_bf16, b_f32, b_bf16, c_f32, bias_f32;
  dnnl::reorder a_to_bf16, b_to_bf16;
  dnnl::matmul product;
  std::size_t scratch_bytes = 0;
};

using PlanKey = std::array<Index, 12>;

// bf16 layout of an operand handed over in bf16, as stored (strides as f32_desc).
memory::desc bf16_desc(const GemmOperand& op) {
  const memory::dims strides = op.transposed ? memory::dims{1, op.ld} : memory::dims{op.ld, 1};
  return memory::desc({op.rows, op.cols}, memory::data_type::bf16, strides);
}

std::shared_ptr<const Plan> make_plan(const GemmOperand& a, const GemmOperand& b, Index ldc, bool bias, bool relu,
                                      bool bf16) {
  auto& engine = cpu_engine();
  auto plan = std::make_shared<Plan>();
  plan->bf16 = bf16;
  plan->a_given_bf16 = a.bf16 != nullptr;
  plan->b_given_bf16 = b.bf16 != nullptr;
  const Index M = a.rows, K = a.cols, N = b.cols;
  if (!plan->a_given_bf16) plan->a_f32 = f32_desc(a);
  if (!plan->b_given_bf16) plan->b_f32 = f32_desc(b);
  plan->c_f32 = memory::desc({M, N}, memory::data_type::f32, memory::dims{ldc, 1});
  plan->bias_f32 = memory::desc({1, N}, memory::data_type::f32, memory::format_tag::ab);

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // per-thread buffers below: safe to run concurrently
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  // fp32: the operands as stored. bf16: A in dense bf16 with its stored orientation (a
  // transposed A stays transposed and the matmul reads it so: a transposing reorder was 10-30x
  // slower than a plain conversion, and cost more than the matmul's own handling of a
  // transposed source); B in whatever blocked layout the matmul implementation prefers
  // ("any"), produced by B's reorder.
  // An operand handed over in bf16 is read as stored (B too: a plain layout ran the affinity's
  // tiles as fast as the blocked one, without a reorder).
  if (plan->a_given_bf16) plan->a_bf16 = bf16_desc(a);
  else if (bf16)
    plan->a_bf16 =
        memory::desc({M, K}, memory::data_type::bf16, a.transposed ? memory::format_tag::ba : memory::format_tag::ab);
  const memory::desc& a_in = bf16 ? plan->a_bf16 : plan->a_f32;
  const memory::desc b_in = plan->b_given_bf16 ? bf16_desc(b)
                            : bf16             ? memory::desc({K, N}, memory::data_type::bf16, memory::format_tag::any)
                                               : plan->b_f32;
  const dnnl::matmul::desc desc =
      bias ? dnnl::matmul::desc(a_in, b_in, plan->bias_f32, plan->c_f32) : dnnl::matmul::desc(a_in, b_in, plan->c_f32);
  const dnnl::matmul::primitive_desc pd(desc, attr, engine);
  plan->product = dnnl::matmul(pd);
  plan->scratch_bytes = pd.scratchpad_desc().get_size();
  if (!bf16) return plan;

  plan->b_bf16 = pd.weights_desc();
  dnnl::primitive_attr reorder_attr;
  reorder_attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (!plan->a_given_bf16) {
    const dnnl::reorder::primitive_desc ra(engine, plan->a_f32, engine, plan->a_bf16, reorder_attr);
    plan->a_to_bf16 = dnnl::reorder(ra);
    plan->scratch_bytes = std::max(plan->scratch_bytes, ra.scratchpad_desc().get_size());
  }
  if (!plan->b_given_bf16) {
    const dnnl::reorder::primitive_desc rb(engine, plan->b_f32, engine, plan->b_bf16, reorder_attr);
    plan->b_to_bf16 = dnnl::reorder(rb);
    plan->scratch_bytes = std::max(plan->scratch_bytes, rb.scratchpad_desc().get_size());
  }
  return plan;
}

// The cache is shared by all threads (inference runs one chunk per thread). It is bounded:
// shapes come from batch and chunk sizes, so a long-lived process that sees many different
// final-chunk sizes would otherwise grow it without limit.
constexpr std::size_t kMaxPlans = 256;
std::mutex plans_mutex;
std::map<PlanKey, std::shared_ptr<const Plan>>& plans() {
  static std::map<PlanKey, std::shared_ptr<const Plan>> cache;
  return cache;
}

std::shared_ptr<const Plan> plan_for(const GemmOperand& a, const GemmOperand& b, Index ldc, bool bias, bool relu,
                                     bool bf16) {
  const PlanKey key = {a.rows,
                       a.cols,
                       b.cols,
                       a.ld,
                       Index(a.transposed),
                       b.ld,
                       Index(b.transposed),
                       ldc,
                       Index(bias) | (Index(relu) << 1),
                       Index(ambient_threads()),
                       Index(bf16),
                       Index(a.bf16 != nullptr) | (Index(b.bf16 != nullptr) << 1)};
  std::lock_guard<std::mutex> lock(plans_mutex);
  auto& cache = plans();
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= kMaxPlans) cache.clear();  // plans in use stay alive through their shared_ptr
  auto plan = make_plan(a, b, ldc, bias, relu, bf16);
  cache.emplace(key, plan);
  return plan;
}

// Per-thread stream and buffers (bf16 copies of A and B, scratchpad), grown as needed.
struct ThreadBuffers {
  std::optional<dnnl::stream> stream;
  Bytes a, b, scratch;
};

unsigned char* at_least(Bytes& buffer, std::size_t bytes) {
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.data();
}

void onednn_gemm(const GemmOperand& a, const GemmOperand& b, float* c, Index ldc, const float* bias, bool relu,
                 bool bf16) {
  try {
    const std::shared_ptr<const Plan> plan = plan_for(a, b, ldc, bias != nullptr, relu, bf16);
    thread_local ThreadBuffers tb;
    if (!tb.stream) tb.stream.emplace(cpu_engine());
    auto& engine = cpu_engine();
    memory c_f32(plan->c_f32, engine, c);
    const std::size_t scratch_bytes = std::max<std::size_t>(plan->scratch_bytes, 1);
    memory scratch(memory::desc({Index(scratch_bytes)}, memory::data_type::u8, memory::format_tag::a), engine,
                   at_least(tb.scratch, scratch_bytes));
    dnnl::stream& s = *tb.stream;
    // Each operand: as handed over in bf16, as stored in f32 (fp32 products), or converted
    // into this thread's buffer.
    const auto operand = [&](const GemmOperand& op, bool given_bf16, const memory::desc& f32,
                             const memory::desc& bf16_layout, const dnnl::reorder& convert, Bytes& buffer) {
      if (given_bf16) return memory(bf16_layout, engine, const_cast<std::uint16_t*>(op.bf16));
      memory in(f32, engine, const_cast<float*>(op.data));
      if (!plan->bf16) return in;
      memory out(bf16_layout, engine, at_least(buffer, bf16_layout.get_size()));
      convert.execute(s, {{DNNL_ARG_FROM, in}, {DNNL_ARG_TO, out}, {DNNL_ARG_SCRATCHPAD, scratch}});
      return out;
    };
    memory a_in = operand(a, plan->a_given_bf16, plan->a_f32, plan->a_bf16, plan->a_to_bf16, tb.a);
    memory b_in = operand(b, plan->b_given_bf16, plan->b_f32, plan->b_bf16, plan->b_to_bf16, tb.b);
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, a_in}, {DNNL_ARG_WEIGHTS, b_in}, {DNNL_ARG_DST, c_f32}, {DNNL_ARG_SCRATCHPAD, scratch}};
    if (bias) args.emplace(DNNL_ARG_BIAS, memory(plan->bias_f32, engine, const_cast<float*>(bias)));
    plan->product.execute(s, args);
    s.wait();
  } catch (const dnnl::error& e) {
    throw Error(concat("oneDNN ", bf16 ? "bf16" : "fp32", " product (", a.rows, " x ", a.cols, " x ", b.cols,
                       ") failed: ", e.what()));
  }
}

}  // namespace

std::size_t gemm_cached_shapes() {
  std::lock_guard<std::mutex> lock(plans_mutex);
  return plans().size();
}

#endif

void gemm(const GemmOperand& a, const GemmOperand& b, float* c, Index ldc, Precision precision, const float* bias,
          bool relu) {
  assert(a.cols == b.rows && ldc >= b.cols);
  const bool bf16 = precision == Precision::Bf16;
  // Without oneDNN bf16_available() is false, with bf16_backend_unavailable_reason() as the reason.
  NEUNCUT_REQUIRE(!bf16 || bf16_available(), InvalidArgument,
                  "bf16 matrix products are unavailable: ", bf16_unavailable_reason());
  NEUNCUT_REQUIRE(bf16 || (a.bf16 == nullptr && b.bf16 == nullptr), InvalidArgument,
                  "an operand given in bf16 needs a bf16 product");
  if (a.rows == 0 || b.cols == 0) return;
  if (a.cols == 0) return empty_product(a.rows, b.cols, c, ldc, bias, relu);
#ifdef NEUNCUT_HAVE_ONEDNN
  if (bf16 || fp32_gemm_backend() == Fp32GemmBackend::OneDnn) return onednn_gemm(a, b, c, ldc, bias, relu, bf16);
#endif
  eigen_gemm(a, b, c, ldc, bias, relu);
}

void gemm_rowwise(const GemmOperand& a, const GemmOperand& b, float* c, Index ldc, Precision precision,
                  const float* bias, bool relu) {
  assert(!a.transposed && a.bf16 == nullptr && a.cols == b.rows && ldc >= b.cols);
  assert(!(b.transposed && b.bf16 != nullptr));
  const Index M = a.rows, K = a.cols, N = b.cols, tiles = (M + kRowTileRows - 1) / kRowTileRows;
  if (M == 0 || N == 0) return;
  // B dense and not transposed: with a transposed B (k-means' centroids), oneDNN's AVX2
  // kernels gave the last row of a tile other bits than the same row elsewhere in the tile.
  MatrixF b_dense;
  if (b.transposed || (b.bf16 == nullptr && b.ld != N)) {
    b_dense = stored(b);
    if (b.transposed) b_dense.transposeInPlace();
    return gemm_rowwise(a, gemm_operand(b_dense), c, ldc, precision, bias, relu);
  }
  // A tile is read and written in place when it is full and dense; otherwise through dense
  // per-thread buffers, so that every product has the same shape and strides.
  const bool dense = a.ld == K && ldc == N;
  const int threads = ambient_threads();
  ThreadCountScope single(1);
  parallel_for(0, tiles, threads, [&](Index t) {
    const Index lo = t * kRowTileRows, rows = std::min(kRowTileRows, M - lo);
    GemmOperand tile = a;
    tile.rows = kRowTileRows;
    tile.ld = K;
    if (dense && rows == kRowTileRows) {
      tile.data = a.data + lo * a.ld;
      gemm(tile, b, c + lo * ldc, ldc, precision, bias, relu);
      return;
    }
    thread_local std::vector<float> in, out;
    in.assign(static_cast<std::size_t>(kRowTileRows * K), 0.0f);
    out.resize(static_cast<std::size_t>(kRowTileRows * N));
    for (Index r = 0; r < rows; ++r) std::copy_n(a.data + (lo + r) * a.ld, K, in.data() + r * K);
    tile.data = in.data();
    gemm(tile, b, out.data(), N, precision, bias, relu);
    for (Index r = 0; r < rows; ++r) std::copy_n(out.data() + r * N, N, c + (lo + r) * ldc);
  });
}

}  // namespace neuncut::detail

namespace neuncut {

// The public queries of include/neuncut/core/precision.hpp that the backend answers.
const std::string& bf16_unavailable_reason() {
  static const std::string reason = detail::bf16_backend_unavailable_reason();
  return reason;
}

std::string fp32_gemm_library() {
  return detail::fp32_gemm_backend() == detail::Fp32GemmBackend::OneDnn ? "oneDNN" : "Eigen";
}

std::string onednn_cpu_isa() { return detail::onednn_cpu_isa(); }

}  // namespace neuncut
