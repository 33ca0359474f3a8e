// The Trainer's minibatch step against the naive double reference (persistent particles,
// sign of beta, symmetric nudging, uneven chunks), and bit-identical results for any
// number of threads on real MNIST.
#include <doctest/doctest.h>

#include <tbb/global_control.h>

#include <cmath>
#include <random>

#include "eqprop/ep/conv_reference.hpp"
#include "eqprop/io/augment.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/rng.hpp"
#include "eqprop/engine/trainer.hpp"
#include "helpers.hpp"

using test::Net;
using test::State;

namespace {
constexpr int kInputs = 784;  // MNIST-shaped test data

// Random pixels; with sparse set, the first and last 130 pixels of every image and three in
// four of the others are 0, about as in MNIST, so the input products skip most of them.
eqprop::Dataset synthetic(int count, std::uint64_t seed, bool sparse = false) {
  std::mt19937_64 g(seed);
  eqprop::Dataset d;
  d.count = count;
  d.x.resize(std::size_t(count) * kInputs);
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const int p = static_cast<int>(i % kInputs);
    const auto v = static_cast<std::uint8_t>(g() % 256);
    const bool zero = sparse && (p < 130 || p >= kInputs - 130 || g() % 4 != 0);
    d.x[i] = zero ? 0 : v;
  }
  for (int i = 0; i < count; ++i) d.y.push_back(static_cast<eqprop::Label>(g() % 10));
  return d;
}

// Example i's input in epoch e: with max-shift its image moved by the drawn shift, written
// out pixel by pixel here (test_augment checks shift_image against the same definition).
std::vector<double> shifted_input(const eqprop::Dataset& data, int i, const eqprop::Config& cfg, int e) {
  const eqprop::Shift s = eqprop::draw_shift(cfg.seed, e, i, cfg.max_shift);
  std::vector<double> x(kInputs, 0.0);
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 28; ++c)
      if (r - s.dy >= 0 && r - s.dy < 28 && c - s.dx >= 0 && c - s.dx < 28)
        x[r * 28 + c] = data.row(i)[(r - s.dy) * 28 + (c - s.dx)] / 255.0;  // the byte's value, in double
  return x;
}

// The reference run: epochs over `data` in fixed order, per-example particles starting at
// zero, the library's naive double EP (ep/reference.hpp). signs: the sign of beta of each
// minibatch in turn.
Net reference_training(Net net, const eqprop::Config& cfg, const eqprop::Dataset& data, const std::vector<int>& signs) {
  const int L = net.layers();
  std::vector<State> particles(data.count, State(L + 1));
  for (auto& p : particles)
    for (int k = 1; k <= L; ++k) p[k].assign(net.sizes[k], 0.0);
  std::size_t m = 0;
  for (int e = 0; e < cfg.epochs; ++e) {
    std::vector<double> alphas;
    for (float a : cfg.alphas) alphas.push_back(a * std::pow(double(cfg.lr_decay), e));  // lr-decay per epoch
    for (int first = 0; first + cfg.batch <= data.count; first += cfg.batch, ++m) {
      const double beta = cfg.beta * (cfg.beta_sign == eqprop::BetaSign::Random ? signs.at(m) : 1);
      std::vector<std::vector<double>> inputs;
      std::vector<int> labels;
      std::vector<State*> mine;
      for (int i = first; i < first + cfg.batch; ++i) {
        inputs.push_back(shifted_input(data, i, cfg, e));
        labels.push_back(data.y[i]);
        mine.push_back(&particles[i]);
      }
      eqprop::reference::train_minibatch(net, cfg, beta, alphas, inputs, labels, mine);
    }
  }
  return net;
}

void compare_with_reference(eqprop::Config cfg, bool sparse = false) {
  const eqprop::Dataset train = synthetic(cfg.train_samples, 17, sparse), valid = synthetic(10, 18, sparse);
  cfg.validate();
  eqprop::Trainer trainer(cfg, train, valid);
  const Net start = test::to_double(trainer.network());
  // The Trainer draws from its generator: Glorot weights first, then one sign per minibatch.
  eqprop::Rng rng(cfg.seed);
  eqprop::glorot_network<float>(cfg.layer_sizes(), rng);
  std::vector<int> signs;
  for (int m = 0; m < cfg.epochs * (cfg.train_samples / cfg.batch); ++m) signs.push_back(rng.sign());
  for (int e = 0; e < cfg.epochs; ++e) trainer.train_epoch();
  const Net expect = reference_training(start, cfg, train, signs);
  const Net got = test::to_double(trainer.network());
  double worst = 0, moved = 0;
  for (int k = 1; k <= got.layers(); ++k) {
    for (std::size_t j = 0; j < got.W[k].size(); ++j) {
      worst = std::max(worst, std::abs(got.W[k][j] - expect.W[k][j]));
      moved = std::max(moved, std::abs(expect.W[k][j] - start.W[k][j]));
    }
    for (std::size_t j = 0; j < got.b[k].size(); ++j) {
      worst = std::max(worst, std::abs(got.b[k][j] - expect.b[k][j]));
      moved = std::max(moved, std::abs(expect.b[k][j] - start.b[k][j]));
    }
  }
  MESSAGE("max |trainer - reference| = " << worst << ", largest parameter change " << moved);
  CHECK(moved > 1e-3);  // the updates are not trivially small
  CHECK(worst < 1e-5);
}

eqprop::Config small_config() {
  eqprop::Config cfg;
  cfg.hidden = {16, 12};
  cfg.alphas = {0.2f, 0.1f, 0.05f};
  cfg.batch = 7;
  cfg.chunk = 3;  // uneven chunks: 3 + 3 + 1
  cfg.train_samples = 14;
  cfg.epochs = 2;  // the second epoch starts from the particles of the first
  cfg.n_free = 6;
  cfg.n_nudged = 3;
  cfg.beta = 0.5f;
  cfg.eval_chunk = 4;
  return cfg;
}

}  // namespace

namespace {

// A conv net's training against ep/conv_reference: per-example particles, the synchronous
// step at eps = 1 (the reference's s = clip(dPhi/ds)), the update as dPhi/dtheta differences.
void compare_conv_with_reference(eqprop::Config cfg) {
  namespace ref = eqprop::reference;
  const eqprop::Dataset train = synthetic(cfg.train_samples, 27, true), valid = synthetic(10, 28, true);
  cfg.validate();
  eqprop::Trainer trainer(cfg, train, valid);
  const bool ce = cfg.readout == eqprop::Readout::CrossEntropy;
  ref::ConvNet r = ref::make_conv_net(cfg.layers, cfg.facts, ce ? ref::Readout::CrossEntropy : ref::Readout::Mse, 1.0, 1);
  const eqprop::Network& start = trainer.network();
  for (int l = 1; l <= r.L(); ++l) {
    r.W[l].assign(start.W[l].begin(), start.W[l].end());
    r.b[l].assign(start.b[l].begin(), start.b[l].end());
  }
  const ref::ConvNet initial = r;
  eqprop::Rng rng(cfg.seed);  // the Trainer draws the weights first, then one sign per minibatch
  eqprop::layered_network<float>(cfg.layers, cfg.facts, rng);
  std::vector<int> signs;
  for (int m = 0; m < cfg.epochs * (cfg.train_samples / cfg.batch); ++m) signs.push_back(rng.sign());
  for (int e = 0; e < cfg.epochs; ++e) trainer.train_epoch();
  const bool symmetric = cfg.nudging == eqprop::Nudging::Symmetric;
  std::vector<ref::States> particles;
  for (int i = 0; i < train.count; ++i) {
    std::vector<double> x(kInputs);
    for (int p = 0; p < kInputs; ++p) x[p] = train.row(i)[p] / 255.0;
    particles.push_back(ref::zero_states(r, x));
  }
  std::size_t m = 0;
  for (int e = 0; e < cfg.epochs; ++e)
    for (int first = 0; first + cfg.batch <= train.count; first += cfg.batch, ++m) {
      const double beta = cfg.beta * (cfg.beta_sign == eqprop::BetaSign::Random ? signs.at(m) : 1);
      ref::Params sum;
      sum.W.resize(r.W.size());
      sum.b.resize(r.b.size());
      for (int l = 1; l <= r.L(); ++l) {
        sum.W[l].assign(r.W[l].size(), 0.0);
        sum.b[l].assign(r.b[l].size(), 0.0);
      }
      for (int i = first; i < first + cfg.batch; ++i) {
        ref::States s = particles[i];
        for (int t = 0; t < cfg.n_free; ++t) s = ref::step(r, s, 0.0, train.y[i]);
        particles[i] = s;
        // The engine's squared error has no 1/2: its beta is half the reference's. The
        // cross-entropy's beta is the same; its dPhi/dW_L is -beta dL/dW_L.
        auto nudge = [&](double b) {
          const double rb = ce ? b : 2 * b;
          ref::States n = particles[i];
          for (int t = 0; t < cfg.n_nudged; ++t) n = ref::step(r, n, rb, train.y[i]);
          return ref::phi_gradient(r, n, rb, train.y[i]);
        };
        const ref::Params ga = nudge(beta), gb = symmetric ? nudge(-beta) : ref::phi_gradient(r, s, 0.0, 0);
        for (int l = 1; l <= r.L(); ++l) {
          for (std::size_t j = 0; j < sum.W[l].size(); ++j) sum.W[l][j] += ga.W[l][j] - gb.W[l][j];
          for (std::size_t j = 0; j < sum.b[l].size(); ++j) sum.b[l][j] += ga.b[l][j] - gb.b[l][j];
        }
      }
      const double beta_diff = symmetric ? 2 * beta : beta;
      for (int l = 1; l <= r.L(); ++l) {
        const double c = cfg.alphas[l - 1] / (beta_diff * cfg.batch);
        for (std::size_t j = 0; j < r.W[l].size(); ++j) r.W[l][j] += c * sum.W[l][j];
        for (std::size_t j = 0; j < r.b[l].size(); ++j) r.b[l][j] += c * sum.b[l][j];
      }
    }
  const eqprop::Network& got = trainer.network();
  double worst = 0, moved = 0;
  for (int l = 1; l <= r.L(); ++l) {
    for (std::size_t j = 0; j < r.W[l].size(); ++j) {
      worst = std::max(worst, std::abs(got.W[l][j] - r.W[l][j]));
      moved = std::max(moved, std::abs(r.W[l][j] - initial.W[l][j]));
    }
    for (std::size_t j = 0; j < r.b[l].size(); ++j) {
      worst = std::max(worst, std::abs(got.b[l][j] - r.b[l][j]));
      moved = std::max(moved, std::abs(r.b[l][j] - initial.b[l][j]));
    }
  }
  MESSAGE("conv net: max |trainer - reference| = " << worst << ", largest parameter change " << moved);
  CHECK(moved > 1e-3);
  CHECK(worst < 1e-5);
}

eqprop::Config conv_config() {
  eqprop::Config cfg = small_config();
  cfg.layers = eqprop::parse_layers("conv:3:5:pool2 conv:4:3:p1:pool2");
  cfg.eps = 1.f;
  return cfg;
}

}  // namespace

TEST_CASE("conv nets: the trainer equals the plain-loop reference (one-sided random sign, and symmetric)") {
  compare_conv_with_reference(conv_config());
  eqprop::Config cfg = conv_config();
  cfg.nudging = eqprop::Nudging::Symmetric;
  compare_conv_with_reference(cfg);
}

TEST_CASE("the cross-entropy readout: the trainer equals the plain-loop reference (conv and dense nets)") {
  eqprop::Config cfg = conv_config();
  cfg.readout = eqprop::Readout::CrossEntropy;
  compare_conv_with_reference(cfg);
  cfg.nudging = eqprop::Nudging::Symmetric;
  cfg.beta = 0.8f;
  compare_conv_with_reference(cfg);
  cfg.layers = eqprop::parse_layers("dense:16 dense:12");  // the dense kinds, layer 1 over sparse inputs
  compare_conv_with_reference(cfg);
}

TEST_CASE("trainer equals the naive reference: one-sided, random sign of beta") {
  compare_with_reference(small_config());
}

TEST_CASE("trainer equals the naive reference: symmetric nudging, positive beta") {
  eqprop::Config cfg = small_config();
  cfg.nudging = eqprop::Nudging::Symmetric;
  cfg.beta_sign = eqprop::BetaSign::Positive;
  compare_with_reference(cfg);
}

TEST_CASE("trainer equals the naive reference on sparse images (the input products skip the zeros)") {
  compare_with_reference(small_config(), true);
}

TEST_CASE("trainer equals the naive reference when every free phase starts from zero") {
  eqprop::Config cfg = small_config();
  cfg.persistent_particles = false;
  compare_with_reference(cfg);
}

TEST_CASE("trainer equals the naive reference with weight decay and a learning-rate decay") {
  eqprop::Config cfg = small_config();
  cfg.weight_decay = 0.3f;
  cfg.lr_decay = 0.6f;
  compare_with_reference(cfg, true);
}

TEST_CASE("trainer equals the naive reference with training images shifted by up to 2 pixels") {
  eqprop::Config cfg = small_config();
  cfg.max_shift = 2;
  compare_with_reference(cfg, true);
}

TEST_CASE("weights set through parameters() between minibatches are the weights the next minibatch uses") {
  // The layers' copies of W (packed, transposed; net1's output layer has both) are refreshed by
  // the update, so a change from outside must mark them stale: against a trainer made from the
  // changed state, whose first minibatch (and evaluation) refreshes them.
  const eqprop::Dataset train = synthetic(60, 23, true), valid = synthetic(10, 24, true);
  eqprop::Config cfg;  // net1: 784-500-10
  cfg.train_samples = 60;
  cfg.epochs = 1;
  cfg.validate();
  const auto one_minibatch = [](const eqprop::Trainer&) { return eqprop::Next::Stop; };
  eqprop::Trainer a(cfg, train, valid);
  a.train_pass(one_minibatch);
  eqprop::Network& p = a.parameters();
  for (int k = 1; k <= p.layers(); ++k)
    for (float& w : p.W[k]) w *= -0.5f;
  eqprop::Trainer b(a.state(), train, valid);
  std::vector<float> scores_a, scores_b;  // an evaluation right after the change uses it too
  a.evaluate(valid, 20, nullptr, &scores_a);
  b.evaluate(valid, 20, nullptr, &scores_b);
  CHECK(scores_a == scores_b);
  a.train_pass(one_minibatch);
  b.train_pass(one_minibatch);
  for (int k = 1; k <= a.network().layers(); ++k) {
    CHECK(a.network().W[k] == b.network().W[k]);
    CHECK(a.network().b[k] == b.network().b[k]);
  }
}

namespace {
// Epoch 2 of a run with a rate schedule (cfg) against epoch 1 of the same run at constant rates
// (constant), resumed with every rate times `scale` (rounded to float as the trainer rounds it):
// the same weights.
void check_epoch2_rates(const eqprop::Config& cfg, const eqprop::Config& constant, double scale, std::uint64_t seed) {
  const eqprop::Dataset train = synthetic(cfg.train_samples, seed), valid = synthetic(10, seed + 1);
  eqprop::Trainer scheduled(cfg, train, valid);
  scheduled.train_epoch();
  const eqprop::Network after_one = scheduled.network();
  scheduled.train_epoch();
  eqprop::Trainer first(constant, train, valid);
  first.train_epoch();
  CHECK(first.network().W[1] == after_one.W[1]);  // epoch 1 has the full rates
  eqprop::TrainState st = first.state();
  CHECK(st.velocity.W.empty() == (cfg.momentum == 0.f));
  for (auto& a : st.cfg.alphas) a = static_cast<float>(a * scale);
  eqprop::Trainer second(std::move(st), train, valid);
  second.train_epoch();
  for (int k = 1; k <= 3; ++k) {
    CHECK(scheduled.network().W[k] == second.network().W[k]);
    CHECK(scheduled.network().b[k] == second.network().b[k]);
  }
  // And the schedule did change something.
  eqprop::Trainer plain(constant, train, valid);
  plain.train_epoch();
  plain.train_epoch();
  CHECK(plain.network().W[1] != scheduled.network().W[1]);
}
}  // namespace

TEST_CASE("lr-decay: epoch 2 trains with alphas * lr-decay, as a run resumed with those rates") {
  eqprop::Config cfg = small_config();
  cfg.lr_decay = 0.5f;
  cfg.validate();
  eqprop::Config constant = cfg;
  constant.lr_decay = 1.f;
  check_epoch2_rates(cfg, constant, 0.5, 31);
}

TEST_CASE("lr-schedule cosine: epoch 2 trains with alphas * (1 + cos(pi / epochs)) / 2, as a run resumed with those rates") {
  eqprop::Config cfg = small_config();
  cfg.lr_schedule = eqprop::LrSchedule::Cosine;
  cfg.epochs = 4;
  cfg.momentum = 0.5f;  // the velocity goes on across the epoch boundary and the resume
  cfg.validate();
  eqprop::Config constant = cfg;
  constant.lr_schedule = eqprop::LrSchedule::Decay;
  const double scale = cfg.rate_scale(1);
  CHECK(scale == doctest::Approx((1 + std::cos(M_PI / 4)) / 2).epsilon(1e-15));
  check_epoch2_rates(cfg, constant, scale, 33);
}

namespace {
// One epoch of cfg on data with 1, 2 and 4 threads: the same weights and evaluation figures.
void check_threads_identical(const eqprop::Config& cfg, const eqprop::Splits& data) {
  std::vector<eqprop::Network> nets;
  std::vector<eqprop::StateStats> evals;
  for (int threads : {1, 2, 4}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    eqprop::Trainer t(cfg, data.train, data.valid);
    const auto e = t.train_epoch();
    nets.push_back(t.network());
    evals.push_back(e.valid);
    evals.push_back(t.evaluate(data.test, 30, nullptr));
  }
  for (std::size_t r = 1; r < nets.size(); ++r) {
    CHECK(nets[r].W == nets[0].W);
    CHECK(nets[r].b == nets[0].b);
    for (int s = 0; s < 2; ++s) {
      CHECK(evals[2 * r + s].free_steps == evals[s].free_steps);
      CHECK(evals[2 * r + s].errors == evals[s].errors);
      CHECK(evals[2 * r + s].energy == evals[s].energy);
      CHECK(evals[2 * r + s].cost == evals[s].cost);
    }
  }
}
}  // namespace

namespace {
// Each sample's relaxation is its own arithmetic whatever rows share its chunk, and the
// minibatch's energy and cost are summed sample by sample: so with a fixed number of steps
// (tol 0) the chunk changes nothing, neither the parameters and particles nor any figure.
void check_chunks_identical(eqprop::Config cfg, const eqprop::Splits& data, const std::vector<int>& chunks) {
  std::vector<eqprop::TrainState> runs;
  for (int chunk : chunks) {
    cfg.chunk = chunk;
    cfg.validate();
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
    eqprop::Trainer t(cfg, data.train, data.valid);
    for (int e = 0; e < cfg.epochs; ++e) t.train_epoch();
    runs.push_back(t.state());
  }
  for (std::size_t r = 1; r < runs.size(); ++r) {
    INFO("chunk " << chunks[r] << " against " << chunks[0]);
    CHECK(runs[r].net.W == runs[0].net.W);
    CHECK(runs[r].net.b == runs[0].net.b);
    CHECK(runs[r].train_particles.h == runs[0].train_particles.h);
    CHECK(runs[r].valid_particles.h == runs[0].valid_particles.h);
    REQUIRE(runs[r].curves.size() == runs[0].curves.size());
    for (std::size_t e = 0; e < runs[0].curves.size(); ++e) {
      for (auto part : {&eqprop::EpochStats::train, &eqprop::EpochStats::valid}) {
        const eqprop::StateStats& a = runs[0].curves[e].*part;
        const eqprop::StateStats& b = runs[r].curves[e].*part;
        CHECK(b.energy == a.energy);
        CHECK(b.cost == a.cost);
        CHECK(b.errors == a.errors);
        CHECK(b.free_steps == a.free_steps);
        CHECK(b.at0 == a.at0);
        CHECK(b.active == a.active);
      }
    }
  }
}
}  // namespace

TEST_CASE("with a fixed number of steps the chunk changes no parameter, particle or figure (real MNIST)") {
  const eqprop::Splits data = eqprop::load_splits(test::mnist_dir(), 600, 200);
  eqprop::Config cfg;  // net1 settings, persistent particles
  cfg.train_samples = 600;
  cfg.valid_samples = 200;
  cfg.epochs = 2;  // the second epoch starts from the particles of the first
  cfg.shuffle = true;
  cfg.max_shift = 1;
  check_chunks_identical(cfg, data, {10, 3, 7, 20});
  cfg.hidden = {48, 40};  // two hidden layers, symmetric nudging, momentum
  cfg.alphas = {0.1f, 0.05f, 0.02f};
  cfg.nudging = eqprop::Nudging::Symmetric;
  cfg.momentum = 0.9f;
  check_chunks_identical(cfg, data, {10, 4});
  eqprop::Config conv;  // a conv net, cross-entropy readout, alternating free phases without tol
  conv.layers = eqprop::parse_layers("conv:6:5:pool2 conv:8:3:p1:pool2");
  conv.alphas = {0.1f, 0.05f, 0.02f};
  conv.train_samples = 200;
  conv.valid_samples = 100;
  conv.epochs = 1;
  conv.n_free = 8;
  conv.readout = eqprop::Readout::CrossEntropy;
  conv.relax = eqprop::RelaxScheme::Alternating;
  conv.relax_nudged = eqprop::NudgedRelax::Sync;
  check_chunks_identical(conv, data, {10, 3});
}

TEST_CASE("weights and evaluation are bit-identical for --threads 1, 2 and 4 (real MNIST)") {
  const eqprop::Splits data = eqprop::load_splits(test::mnist_dir(), 4000, 1000);
  eqprop::Config cfg;  // net1 settings
  cfg.train_samples = 4000;  // 200 minibatches
  cfg.valid_samples = 1000;
  cfg.chunk = 5;
  cfg.shuffle = true;
  cfg.validate();
  check_threads_identical(cfg, data);
  cfg.max_shift = 1;  // shifted training images: each task writes its own rows of the moved images
  check_threads_identical(cfg, data);
  cfg.max_shift = 0;
  cfg.relax = eqprop::RelaxScheme::Alternating;  // phases stop per chunk: the chunks are fixed by the configuration
  cfg.tol = 1e-3f;
  cfg.flip = true;
  check_threads_identical(cfg, data);
  cfg.relax_nudged = eqprop::NudgedRelax::Sync;  // exact free phases, the paper's nudged steps, at +beta and -beta
  cfg.nudging = eqprop::Nudging::Symmetric;
  cfg.momentum = 0.9f;  // the velocity's blocks are the weights' blocks
  cfg.weight_decay = 1e-3f;
  check_threads_identical(cfg, data);
}

TEST_CASE("a conv net's weights and evaluation are bit-identical for --threads 1, 2 and 4 (real MNIST)") {
  const eqprop::Splits data = eqprop::load_splits(test::mnist_dir(), 600, 200);
  eqprop::Config cfg;
  cfg.layers = eqprop::parse_layers("conv:6:5:pool2 conv:8:3:p1:pool2");
  cfg.alphas = {0.1f, 0.05f, 0.02f};
  cfg.train_samples = 600;
  cfg.valid_samples = 200;
  cfg.chunk = 5;
  cfg.shuffle = true;
  cfg.validate();
  check_threads_identical(cfg, data);
  cfg.momentum = 0.9f;
  cfg.weight_decay = 1e-3f;
  cfg.lr_schedule = eqprop::LrSchedule::Cosine;
  cfg.nudging = eqprop::Nudging::Symmetric;
  cfg.validate();
  check_threads_identical(cfg, data);
  cfg.readout = eqprop::Readout::CrossEntropy;  // alternating free phases, the paper's nudged steps
  cfg.relax = eqprop::RelaxScheme::Alternating;
  cfg.relax_nudged = eqprop::NudgedRelax::Sync;
  cfg.tol = 1e-3f;
  check_threads_identical(cfg, data);
}

TEST_CASE("evaluation in slices gives evaluate()'s bits and stops between slices when asked") {
  const eqprop::Splits data = eqprop::load_splits(test::mnist_dir(), 1000, 200);
  eqprop::Config cfg;  // net1 settings
  cfg.train_samples = 1000;
  cfg.valid_samples = 200;
  cfg.eval_chunk = 70;  // 10,000 test images: 143 chunks, the last one partial
  cfg.validate();
  eqprop::Trainer t(cfg, data.train, data.valid);
  t.train_epoch();
  const eqprop::StateStats whole = t.evaluate(data.test, 20, nullptr);
  for (int slice : {1, 2, 7, 143, 500}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, slice % 2 ? 2 : 1);
    int asked = 0;
    const auto s = t.evaluate_in_slices(data.test, 20, slice, [&] { return ++asked > 0; });
    REQUIRE(s.has_value());
    CHECK(asked == (143 + slice - 1) / slice - 1);  // before every slice after the first
    CHECK(s->count == 10000);
    CHECK(s->errors == whole.errors);
    CHECK(s->energy == whole.energy);  // the same chunks summed in the same order
    CHECK(s->cost == whole.cost);
    CHECK(s->free_steps == whole.free_steps);
  }
  int asked = 0;
  CHECK_FALSE(t.evaluate_in_slices(data.test, 20, 10, [&] { return ++asked < 3; }).has_value());
  CHECK(asked == 3);  // slices 1-3 ran; the answer before slice 4 stopped it
}

TEST_CASE("one epoch on 3,000 real MNIST images gets far below chance") {
  const eqprop::Splits data = eqprop::load_splits(test::mnist_dir(), 3000, 2000);
  eqprop::Config cfg;  // net1 settings
  cfg.train_samples = 3000;
  cfg.valid_samples = 2000;
  cfg.validate();
  eqprop::Trainer t(cfg, data.train, data.valid);
  const auto e = t.train_epoch();
  const double err = 100.0 * e.valid.errors / e.valid.count;
  MESSAGE("validation error after 1 epoch on 3000 images: " << err << "%");
  CHECK(err < 20.0);
}
