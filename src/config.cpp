#include "eqprop/config.hpp"
#include "eqprop/mnist_shape.hpp"

#include <tbb/info.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "eqprop/error.hpp"

namespace eqprop {
namespace {
template <typename T>
void require(bool ok, const char* key, T found, const char* expected) {
  if (ok) return;
  std::ostringstream os;
  os << "config key '" << key << "': expected " << expected << ", found " << found;
  throw ConfigError(os.str());
}
}  // namespace

void Config::validate() const {
  require(!hidden.empty(), "hidden", "an empty list", "at least one hidden layer size");
  for (int h : hidden) require(h > 0 && h <= 100000, "hidden", h, "sizes in 1..100000");
  require(epochs >= 0, "epochs", epochs, "a count >= 0");
  require(batch > 0, "batch", batch, "a size > 0");
  require(n_free > 0, "n-free", n_free, "a step count > 0");
  require(n_nudged > 0, "n-nudged", n_nudged, "a step count > 0");
  require(test_steps > 0, "test-steps", test_steps, "a step count > 0");
  // eps > 1 makes (1 - eps) negative: the update would overshoot and oscillate.
  require(std::isfinite(eps) && eps > 0.f && eps <= 1.f, "eps", eps, "a step size in (0, 1]");
  require(std::isfinite(beta) && beta > 0.f, "beta", beta, "a finite value > 0");
  const std::size_t n_weights = hidden.size() + 1;
  if (alphas.size() != n_weights) {
    std::ostringstream os;
    os << "config key 'alphas': expected " << n_weights << " learning rates (one per weight layer of "
       << hidden.size() << " hidden layers), found " << alphas.size();
    throw ConfigError(os.str());
  }
  for (float a : alphas) require(std::isfinite(a) && a >= 0.f, "alphas", a, "finite rates >= 0");
  require(std::isfinite(lr_decay) && lr_decay > 0.f && lr_decay <= 1.f, "lr-decay", lr_decay,
          "a factor per epoch in (0, 1]");
  // alpha_k * lambda >= 1 would flip or zero the weights at every minibatch.
  const float max_alpha = alphas.empty() ? 0.f : *std::max_element(alphas.begin(), alphas.end());
  require(std::isfinite(weight_decay) && weight_decay >= 0.f && max_alpha * weight_decay < 1.f, "weight-decay",
          weight_decay, "a penalty >= 0 with alpha_k * weight-decay < 1 for every layer");
  require(max_shift >= 0 && max_shift <= 8, "max-shift", max_shift, "a pixel count in 0..8 (0: no shifts)");
  const int train_split = train_on_all ? kTrainFileCount : kTrainSplit;
  const std::string up_to = "0 (all) or a count up to " + std::to_string(train_split);
  require(train_samples >= 0 && train_samples <= train_split, "train-samples", train_samples, up_to.c_str());
  require(valid_samples >= 0 && valid_samples <= kValidSplit, "valid-samples", valid_samples,
          ("0 (all) or a count up to " + std::to_string(kValidSplit)).c_str());
  require(!train_on_all || valid_samples == 0, "valid-samples", valid_samples,
          "0: with train-on-all there is no validation split");
  const int n_train = train_samples == 0 ? train_split : train_samples;
  require(batch <= n_train, "batch", batch, "a size no larger than the training set");
  require(threads >= 1 && threads <= 4096, "threads", threads, "a thread count in 1..4096");
  require(chunk > 0, "chunk", chunk, "a size > 0");
  require(eval_chunk > 0 && eval_chunk <= 10000, "eval-chunk", eval_chunk, "a size in 1..10000");
  require(!data.empty(), "data", "an empty path", "a folder");
  // A value must survive --dump-config: config files have no quoting, '#' starts a comment,
  // a line ends a value and the spaces around it are dropped (found by fuzz_config).
  auto writable = [](const char* key, const std::string& v) {
    const bool ok = v.find_first_of("#\n\r") == std::string::npos && v.find('\0') == std::string::npos &&
                    (v.empty() || (!std::isspace(static_cast<unsigned char>(v.front())) &&
                                   !std::isspace(static_cast<unsigned char>(v.back()))));
    require(ok, key, "'" + v + "'", "a path without '#', line breaks, NUL or surrounding spaces");
  };
  writable("data", data);
  writable("metrics", metrics);
  writable("checkpoint", checkpoint);
  writable("resume", resume);
  require(checkpoint_every >= 0, "checkpoint-every", checkpoint_every, "a count >= 0");
  require(max_minibatches >= 0, "max-minibatches", max_minibatches, "a count >= 0");
  require(checkpoint_every == 0 || !checkpoint.empty(), "checkpoint-every", checkpoint_every,
          "0 unless --checkpoint names a file");
}

namespace {
struct MemoryParts {
  double data, weights, particles;
};
MemoryParts memory_parts(const Config& cfg) {
  const auto n = cfg.layer_sizes();
  double weights = 0, units = 0;
  for (std::size_t k = 1; k < n.size(); ++k) {
    weights += double(n[k - 1]) * n[k] + n[k];
    units += n[k];
  }
  const double examples = cfg.train_on_all ? (cfg.train_samples ? cfg.train_samples : kTrainFileCount)
                                           : (cfg.train_samples ? cfg.train_samples : kTrainSplit) +
                                                 (cfg.valid_samples ? cfg.valid_samples : kValidSplit);
  // The training and test files' images as bytes, and a copy while the split is cut.
  const double data = 2.0 * (kTrainFileCount + kTestFileCount) * double(kInputs);
  return {data, 3.0 * weights * sizeof(float), (cfg.checkpoint_particles ? 2.0 : 1.0) * examples * units * sizeof(float)};
}
double gib(double bytes) { return bytes / (1024.0 * 1024.0 * 1024.0); }
}  // namespace

void check_memory(const Config& cfg) {
  const double have = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  const MemoryParts p = memory_parts(cfg);
  const double need = p.data + p.weights + p.particles;
  if (have <= 0 || need <= have) return;
  std::ostringstream os;
  os.precision(3);
  os << "config key 'hidden': the run needs about " << gib(need) << " GiB (weights " << gib(p.weights)
     << ", persistent particles " << gib(p.particles) << ", data " << gib(p.data) << "), this machine has "
     << gib(have) << " GiB";
  throw ConfigError(os.str());
}

int hardware_threads() {
  // Asked once: the answer (affinity, cgroup limits) does not change during a run, and every
  // default Config asks for it.
  static const int threads = tbb::info::default_concurrency();
  return threads;
}

std::vector<int> Config::layer_sizes() const {
  std::vector<int> s{kInputs};
  s.insert(s.end(), hidden.begin(), hidden.end());
  s.push_back(kOutputs);
  return s;
}

std::string to_string(Nudging n) { return n == Nudging::OneSided ? "one-sided" : "symmetric"; }
std::string to_string(BetaSign s) { return s == BetaSign::Random ? "random" : "positive"; }
std::string to_string(DatasetName d) { return d == DatasetName::Mnist ? "mnist" : "fashion-mnist"; }
std::string default_data_dir(DatasetName d) { return d == DatasetName::Mnist ? kMnistDir : kFashionMnistDir; }

}  // namespace eqprop
