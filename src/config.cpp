#include "eqprop/config.hpp"

#include <tbb/info.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
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
  require(std::isfinite(tol) && tol >= 0.f && tol < 1.f, "tol", tol, "0 (off) or a state change in (0, 1)");
  const std::size_t n_weights = entries().size() + 1;
  if (alphas.size() != n_weights) {
    std::ostringstream os;
    os << "config key 'alphas': expected " << n_weights << " learning rates (one per weight layer of "
       << n_weights - 1 << " hidden layers), found " << alphas.size();
    throw ConfigError(os.str());
  }
  for (float a : alphas) require(std::isfinite(a) && a >= 0.f, "alphas", a, "finite rates >= 0");
  require(std::isfinite(lr_decay) && lr_decay > 0.f && lr_decay <= 1.f, "lr-decay", lr_decay,
          "a factor per epoch in (0, 1]");
  require(lr_schedule == LrSchedule::Decay || lr_decay == 1.f, "lr-decay", lr_decay,
          "1 with lr-schedule = cosine (the cosine sets the rates of every epoch)");
  // mu >= 1 lets the velocity grow without bound.
  require(std::isfinite(momentum) && momentum >= 0.f && momentum < 1.f, "momentum", momentum,
          "a factor in [0, 1) (0: plain SGD, as the paper)");
  // alpha_k * lambda >= 1 would flip or zero the weights at every minibatch.
  const float max_alpha = alphas.empty() ? 0.f : *std::max_element(alphas.begin(), alphas.end());
  require(std::isfinite(weight_decay) && weight_decay >= 0.f && max_alpha * weight_decay < 1.f, "weight-decay",
          weight_decay, "a penalty >= 0 with alpha_k * weight-decay < 1 for every layer");
  require(max_shift >= 0 && max_shift <= 8, "max-shift", max_shift, "a pixel count in 0..8 (0: no shifts)");
  require(classes >= 0 && classes <= kMaxClasses, "classes", classes,
          ("0 (from the labels) or a count in 1.." + std::to_string(kMaxClasses)).c_str());
  require(valid_count >= -1, "valid-count", valid_count, "-1 (the format's default), 0 (none) or a count");
  require(train_samples >= 0, "train-samples", train_samples, "0 (all) or a count");
  require(valid_samples >= 0, "valid-samples", valid_samples, "0 (all) or a count");
  require(!train_on_all || valid_samples == 0, "valid-samples", valid_samples,
          "0: with train-on-all there is no validation split");
  require(!train_on_all || valid_count <= 0, "valid-count", valid_count,
          "-1 or 0: with train-on-all there is no validation split");
  require(label == LabelKind::Fine || dataset == DatasetName::Cifar100, "label", to_string(label),
          "fine: only cifar100 has coarse labels");
  require(threads >= 1 && threads <= 4096, "threads", threads, "a thread count in 1..4096");
  require(chunk > 0, "chunk", chunk, "a size > 0");
  require(eval_chunk > 0 && eval_chunk <= 10000, "eval-chunk", eval_chunk, "a size in 1..10000");
  require(!data.empty(), "data", "an empty path",
          dataset == DatasetName::Npz ? "an .npz file (--dataset npz has no default)"
                                      : "a folder (only mnist and fashion-mnist have a default)");
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
  require(patience >= 0, "patience", patience, "a count of epochs >= 0 (0: never stop early)");
  require(keep_best.empty() || keep_best != checkpoint, "keep-best", "'" + keep_best + "'", "a path other than the checkpoint's");
  require(checkpoint_every == 0 || !checkpoint.empty(), "checkpoint-every", checkpoint_every,
          "0 unless --checkpoint names a file");
}

void Config::validate_data(const DataFacts& f, int train_available, int valid_available) const {
  const int train_split = train_available - valid_available;
  const std::string up_to = "0 (all) or a count up to " + std::to_string(train_split) + ", the training split's size";
  require(train_samples <= train_split, "train-samples", train_samples, up_to.c_str());
  require(valid_samples <= valid_available, "valid-samples", valid_samples,
          ("0 (all) or a count up to " + std::to_string(valid_available) + ", the validation split's size").c_str());
  const int n_train = train_samples == 0 ? train_split : train_samples;
  require(batch <= n_train, "batch", batch, "a size no larger than the training set");
  require(max_shift < f.height && max_shift < f.width, "max-shift", max_shift,
          ("a shift smaller than the images' " + std::to_string(f.height) + "x" + std::to_string(f.width)).c_str());
  if (!layers.empty()) layer_shapes(layers, f);  // throws naming the entry that does not fit
  const int n_valid = valid_samples == 0 ? valid_available : valid_samples;
  require(keep_best.empty() || n_valid > 0, "keep-best", "'" + keep_best + "'", "a run with a validation split (this one has none)");
  require(patience == 0 || n_valid > 0, "patience", patience, "0 in a run without a validation split");
}

namespace {
double gib(double bytes) { return bytes / (1024.0 * 1024.0 * 1024.0); }
}  // namespace

MemoryEstimate estimate_memory(const Config& cfg, double file_examples, double train_examples, double valid_examples,
                               int value_bytes) {
  const auto n = cfg.layer_sizes();
  const auto entries = cfg.weight_entries();
  const auto shapes = layer_shapes(cfg.entries(), cfg.facts);
  double weights = 0, units = 0;
  for (std::size_t k = 1; k < n.size(); ++k) {
    weights += double(weight_count(entries[k - 1], shapes[k - 1])) + entries[k - 1].size;  // W_k and b_k
    units += n[k];
  }
  MemoryEstimate m;
  // The files' examples as read (the training split stays in place), and the validation copy.
  m.data = (file_examples + valid_examples) * (double(n[0]) * value_bytes + sizeof(Label));
  m.weights = 3.0 * weights * sizeof(float);
  m.particles = (!cfg.persistent_particles ? 0.0 : cfg.saves_particles() ? 2.0 : 1.0) * (train_examples + valid_examples) * units * sizeof(float);
  return m;
}

std::string describe(const MemoryEstimate& m) {
  std::ostringstream os;
  os.precision(3);
  os << "about " << gib(m.total()) << " GiB (data " << gib(m.data) << ", weights " << gib(m.weights)
     << ", persistent particles " << gib(m.particles) << ")";
  return os.str();
}

namespace {

// A limit file's value in bytes; "max" (v2) or a missing or unreadable file: none (0).
double limit_in(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return end && *end == '\0' && v > 0 ? v : 0;
}

}  // namespace

MemoryLimit memory_limit(const std::string& cgroup_root) {
  MemoryLimit lim;
  lim.bytes = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  lim.source = "physical memory";
  std::string root = cgroup_root;
  if (root.empty()) {
    const char* env = std::getenv("EQPROP_CGROUP_ROOT");
    root = env && *env ? env : "/sys/fs/cgroup";
  }
  // /proc/self/cgroup: "0::/PATH" (v2) and "N:...memory...:/PATH" (v1); the fake tree of the
  // tests holds its own copy as ROOT/self-cgroup.
  std::ifstream self(cgroup_root.empty() && !std::getenv("EQPROP_CGROUP_ROOT") ? "/proc/self/cgroup" : root + "/self-cgroup");
  for (std::string line; std::getline(self, line);) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    std::string dir, file;
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      dir = root, file = "memory.max";  // v2 (unified)
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      dir = root + "/memory", file = "memory.limit_in_bytes";  // v1
    } else {
      continue;
    }
    // The cgroup and each ancestor up to the root: the lowest limit applies.
    while (true) {
      const std::string f = dir + (path == "/" ? "" : path) + "/" + file;
      const double v = limit_in(f);
      if (v > 0 && v < lim.bytes) lim = {v, "the cgroup limit " + f};
      if (path.empty() || path == "/") break;
      const auto slash = path.rfind('/');
      path = slash == 0 ? "/" : path.substr(0, slash);
    }
  }
  return lim;
}

void check_memory(const MemoryEstimate& m) {
  const MemoryLimit have = memory_limit();
  if (have.bytes <= 0 || m.total() <= have.bytes) return;
  std::ostringstream os;
  os.precision(3);
  os << "config key 'hidden': the run needs " << describe(m) << ", this process may use " << gib(have.bytes) << " GiB ("
     << have.source << ")";
  throw ConfigError(os.str());
}

int hardware_threads() {
  // Asked once: the answer (affinity, cgroup limits) does not change during a run, and every
  // default Config asks for it.
  static const int threads = tbb::info::default_concurrency();
  return threads;
}

std::vector<int> Config::layer_sizes() const {
  if (!layers.empty()) {
    std::vector<int> s;
    for (const Shape& sh : layer_shapes(layers, facts)) s.push_back(static_cast<int>(sh.size()));
    return s;
  }
  std::vector<int> s{facts.inputs()};
  s.insert(s.end(), hidden.begin(), hidden.end());
  s.push_back(facts.classes);
  return s;
}

std::string to_string(Nudging n) { return n == Nudging::OneSided ? "one-sided" : "symmetric"; }
std::string to_string(BetaSign s) { return s == BetaSign::Random ? "random" : "positive"; }
std::string to_string(DatasetName d) {
  switch (d) {
    case DatasetName::Mnist: return "mnist";
    case DatasetName::FashionMnist: return "fashion-mnist";
    case DatasetName::Idx: return "idx";
    case DatasetName::Npz: return "npz";
    case DatasetName::Cifar10: return "cifar10";
    case DatasetName::Cifar100: return "cifar100";
  }
  return "?";
}
std::string to_string(LabelKind k) { return k == LabelKind::Fine ? "fine" : "coarse"; }
std::string to_string(RelaxScheme r) { return r == RelaxScheme::Sync ? "sync" : "alternating"; }
std::string to_string(NudgedRelax r) { return r == NudgedRelax::Same ? "same" : "sync"; }
std::string to_string(Readout r) { return r == Readout::Mse ? "mse" : "cross-entropy"; }
std::string to_string(LrSchedule s) { return s == LrSchedule::Decay ? "decay" : "cosine"; }
std::string to_string(Normalize n) { return n == Normalize::None ? "none" : "mean-std"; }
double Config::rate_scale(int epochs_done) const {
  if (lr_schedule == LrSchedule::Cosine) return 0.5 * (1.0 + std::cos(M_PI * double(epochs_done) / double(epochs)));
  return std::pow(double(lr_decay), double(epochs_done));
}

std::string default_data_dir(DatasetName d) {
  if (d == DatasetName::Mnist) return kMnistDir;
  if (d == DatasetName::FashionMnist) return kFashionMnistDir;
  return "";
}

}  // namespace eqprop
