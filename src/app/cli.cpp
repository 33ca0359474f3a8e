#include "eqprop/app/cli.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "eqprop/error.hpp"
#include "eqprop/app/commands.hpp"

namespace po = boost::program_options;

namespace eqprop {
namespace {

std::string join(const std::vector<int>& v) {
  std::ostringstream os;
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? " " : "") << v[i];
  return os.str();
}
std::string text(float v);
std::string join(const std::vector<float>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + text(v[i]);
  return out;
}

// Shortest text that reads back as the same float (0.1f prints as 0.1, not 0.100000001).
std::string text(float v) {
  for (int precision = 6; precision < 10; ++precision) {
    std::ostringstream os;
    os.precision(precision);
    os << v;
    if (std::stof(os.str()) == v) return os.str();
  }
  return std::to_string(v);
}
std::string text(bool v) { return v ? "true" : "false"; }
std::string text(int v) { return std::to_string(v); }
std::string text(const std::string& v) { return v; }

// An option stored into *store whose default (and the text --help and --dump-config show)
// is def.
template <typename T>
po::typed_value<T>* val(T* store, const T& def) {
  return po::value(store)->default_value(def, text(def));
}
// A bare --flag means true; --flag=false and 'flag = false' in a config file also work.
po::typed_value<bool>* val(bool* store, const bool& def) {
  return po::value(store)->default_value(def, text(def))->implicit_value(true, "true");
}

// Parses a space-separated list strictly: every word must be a whole number of type T.
template <typename T>
std::vector<T> parse_list(const char* key, const std::string& text) {
  std::istringstream in(text);
  std::vector<T> out;
  std::string word;
  while (in >> word) {
    std::istringstream w(word);
    T v;
    if (!(w >> v) || !w.eof()) throw ConfigError(std::string("config key '") + key + "': '" + word + "' is not a number");
    out.push_back(v);
  }
  return out;
}

std::uint64_t parse_seed(const std::string& text) {
  const bool digits = !text.empty() && text.size() <= 20 && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) throw ConfigError("config key 'seed': expected a whole number >= 0, found '" + text + "'");
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    throw ConfigError("config key 'seed': '" + text + "' is out of range");
  }
}

// Program_options stores into these; lists, enums and the seed are parsed by us.
struct RawOptions {
  Config cfg;
  std::string hidden, alphas, nudging, beta_sign, seed, dataset, label, normalize, relax, relax_nudged, lr_schedule, readout, layers, config_file;
  std::string chunk;  // a size or "auto"
};

// --chunk: a size, or auto: the minibatch cut into an equal number of chunks per thread of
// every process (threads x ranks "workers"): ceil(batch / (k x workers)) for the smallest k that
// gives a chunk of at most kAutoChunkMax samples and a chunk count that is a multiple of the
// workers (when no size does, the smallest k's). So every thread gets as many rows as the others
// (batch 32 on 2 threads: 4 chunks of 8, not 10, 10, 10, 2), and a chunk is never larger than the
// default the kernels were tuned with. The size is fixed here, once, and the run
// (and its checkpoint) keeps the number: results are bit-identical for a given chunk, whatever
// --threads a later resume uses (and, without --tol, for any chunk: docs/usage.md).
constexpr int kAutoChunkMax = 10;
int parse_chunk(const std::string& text, int batch, int threads, int ranks) {
  if (text == "auto") {
    const long workers = std::max(1L, long(threads) * std::max(1, ranks)), b = std::max(batch, 1);
    long first_fit = 0;
    for (long k = 1;; ++k) {
      const long size = (b + k * workers - 1) / (k * workers);
      if (size > kAutoChunkMax) continue;
      if (first_fit == 0) first_fit = size;
      // Balanced: the chunk count a multiple of the workers (128 on 2: 16 of 8, not 13 of 10).
      if (((b + size - 1) / size) % workers == 0) return static_cast<int>(size);
      if (size == 1) return static_cast<int>(first_fit);  // no balanced size exists
    }
  }
  const bool digits = !text.empty() && text.size() <= 9 && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) throw ConfigError("config key 'chunk': expected a size > 0 or auto, found '" + text + "'");
  return std::stoi(text);
}

// The defaults shown and used are those of `d`: bench trains on fewer samples by default.
po::options_description make_options(RawOptions& r, const Config& d, Command cmd) {
  po::options_description opts(std::string("eqprop ") + (cmd == Command::Train ? "train" : "bench") +
                               " options (every key also works in a --config file as 'key = value')");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("config", po::value(&r.config_file), "config file of 'key = value' lines and 'include = FILE' lines (FILE relative to it; its own keys win over FILE's); the command line overrides it")
    ("dump-config", "print the effective configuration in config-file syntax and exit")
    ("hidden", val(&r.hidden, join(d.hidden)), "hidden layer sizes, input to output, e.g. \"500 500\"")
    ("layers", val(&r.layers, format_layers(d.layers)), "convolutional nets: the hidden layers as entries conv:C:K[:pP][:pool2] then dense:N, e.g. \"conv:32:5:pool2 conv:64:5:pool2\" (replaces hidden; the output layer comes from the data)")
    ("epochs", val(&r.cfg.epochs, d.epochs), "passes over the training split")
    ("batch", val(&r.cfg.batch, d.batch), "minibatch size")
    ("n-free", val(&r.cfg.n_free, d.n_free), "free-phase steps (reference code: n_it_neg)")
    ("n-nudged", val(&r.cfg.n_nudged, d.n_nudged), "nudged-phase steps (reference code: n_it_pos)")
    ("test-steps", val(&r.cfg.test_steps, d.test_steps), "free-phase steps from zero state for the test set")
    ("readout", val(&r.readout, to_string(d.readout)), "mse (the output layer in the dynamics, cost sum (y - h)^2: the paper) or cross-entropy (softmax of the last hidden layer's W_out product, not in the dynamics; its loss nudges the last hidden layer: Laborieux et al. 2021)")
    ("relax", val(&r.relax, to_string(d.relax)), "sync (the paper: every layer's damped step at once) or alternating (each layer to its exact minimum, odd layers then even; eps unused)")
    ("relax-nudged", val(&r.relax_nudged, to_string(d.relax_nudged)), "same (nudged phases relax like the free phase) or sync (the paper's damped steps, eps; with --relax alternating: exact free phases, the paper's nudge)")
    ("tol", val(&r.cfg.tol, d.tol), "stop a phase after the first step or sweep whose largest state change is below this (0: always n-free / n-nudged / test-steps)")
    ("eps", val(&r.cfg.eps, d.eps), "step size of the state update, in (0,1] (sync)")
    ("beta", val(&r.cfg.beta, d.beta), "nudging strength (cost without 1/2, as the reference code)")
    ("alphas", val(&r.alphas, join(d.alphas)), "learning rate per weight layer, input to output")
    ("lr-decay", val(&r.cfg.lr_decay, d.lr_decay), "epoch e uses alphas times lr-decay^(e-1) (1: constant, as the paper)")
    ("lr-schedule", val(&r.lr_schedule, to_string(d.lr_schedule)), "decay (alphas times lr-decay^(e-1)) or cosine (alphas times (1 + cos(pi (e-1) / epochs)) / 2, Laborieux et al. 2021; lr-decay must be 1)")
    ("momentum", val(&r.cfg.momentum, d.momentum), "SGD momentum mu in [0, 1): v = mu v + dW - weight-decay W, W += alpha v, biases likewise without decay (0: plain SGD, as the paper)")
    ("weight-decay", val(&r.cfg.weight_decay, d.weight_decay), "L2 penalty: every minibatch, W_k *= 1 - alpha_k * weight-decay before the EP step (0: none, as the paper; biases are not decayed)")
    ("nudging", val(&r.nudging, to_string(d.nudging)), "one-sided (paper) or symmetric (+beta and -beta phases)")
    ("beta-sign", val(&r.beta_sign, to_string(d.beta_sign)), "random (paper: sign drawn per minibatch) or positive")
    ("shuffle", val(&r.cfg.shuffle, d.shuffle), "shuffle the training order each epoch (paper: false)")
    ("persistent-particles", val(&r.cfg.persistent_particles, d.persistent_particles), "start each example's free phase from its state of the last epoch (paper: true); false: from zero states, as the test set")
    ("max-shift", val(&r.cfg.max_shift, d.max_shift), "data augmentation: each epoch, move every training image by dx, dy drawn uniformly from -N..N pixels (0: none, as the paper; validation and test images are never moved)")
    ("flip", val(&r.cfg.flip, d.flip), "data augmentation: each epoch, mirror every training image left-right with probability 1/2 (the CIFAR habit; false: none, as the paper)")
    ("seed", val(&r.seed, std::to_string(d.seed)), "seed of weight init, beta signs and shuffling")
    ("dataset", val(&r.dataset, to_string(d.dataset)), "the data format: mnist, fashion-mnist (Debian's dataset-fashion-mnist package), idx (a folder of IDX files of any shape, bytes or float32), npz (x_train, y_train, optional x_valid/y_valid, x_test/y_test), cifar10 or cifar100 (the binary versions); see docs/data.md")
    ("data", val(&r.cfg.data, d.data), "the data set: a folder (mnist, fashion-mnist, idx, cifar10, cifar100) or an .npz file (default: data/mnist for mnist, /usr/share/datasets/fashion-mnist for fashion-mnist; the others have none)")
    ("classes", val(&r.cfg.classes, d.classes), "class count, the output units (0: the format's own, or the largest label + 1; set it when a split lacks some class)")
    ("label", val(&r.label, to_string(d.label)), "cifar100's label: fine (100 classes) or coarse (20)")
    ("valid-count", val(&r.cfg.valid_count, d.valid_count), "validation split: the last N examples of the training file (-1: 10000 for mnist and fashion-mnist, the file's own x_valid for npz, else none; 0: none)")
    ("train-on-all", val(&r.cfg.train_on_all, d.train_on_all), "train on the whole training file (with npz's x_valid appended), with no validation split (report the test error)")
    ("train-samples", val(&r.cfg.train_samples, d.train_samples), "use the first N examples of the training split (0: all)")
    ("valid-samples", val(&r.cfg.valid_samples, d.valid_samples), "use the first N examples of the validation split (0: all)")
    ("normalize", val(&r.normalize, to_string(d.normalize)), "none (inputs: bytes / 255, or float32 as stored) or mean-std (per channel, (v - mean) / std with the training split's statistics, kept in checkpoints)")
    ("threads", val(&r.cfg.threads, d.threads), "worker threads (default: all this process may use)")
    ("chunk", val(&r.chunk, std::to_string(d.chunk)), "samples per training task, or auto: an equal number of chunks per thread of every rank, each at most 10 samples (resolved when the run starts and kept by its checkpoint; with --tol results depend on the chunk, without it not; never on --threads)")
    ("eval-chunk", val(&r.cfg.eval_chunk, d.eval_chunk), "samples per evaluation task")
    ("metrics", val(&r.cfg.metrics, d.metrics), "write one JSON object per epoch to this file (appended to on --resume)")
    ("checkpoint", val(&r.cfg.checkpoint, d.checkpoint), "write the whole training state here every epoch (atomically)")
    ("checkpoint-every", val(&r.cfg.checkpoint_every, d.checkpoint_every), "also checkpoint every N minibatches (0: epoch ends only)")
    ("checkpoint-particles", val(&r.cfg.checkpoint_particles, d.checkpoint_particles), "false: model-only checkpoints (particles restart from zero on resume); always model-only without persistent-particles")
    ("resume", val(&r.cfg.resume, d.resume), "continue the run saved in this checkpoint; its configuration is the base that the config file and command line override")
    ("keep-best", val(&r.cfg.keep_best, d.keep_best), "also write the state at the end of the epoch with the lowest validation error so far here (atomically; needs a validation split)")
    ("patience", val(&r.cfg.patience, d.patience), "stop when the validation error has not fallen below its best for N epochs, then test (0: never; needs a validation split)")
    ("diagnostics", val(&r.cfg.diagnostics, d.diagnostics), "after each epoch line, one with each layer's share of units at 0 and at 1 and the output units never active (always in --metrics; a dead output unit is always warned of)")
    ("max-minibatches", val(&r.cfg.max_minibatches, d.max_minibatches), "stop after N minibatches of this invocation, checkpoint and exit 0 (0: no limit)")
    ("progress", val(&r.cfg.progress, d.progress), "progress line on stderr during each epoch");
  // clang-format on
  return opts;
}

// An enumeration's value by its name (to_string of each choice); the error lists the names.
template <class E>
E parse_choice(const std::string& what, const std::string& s, std::initializer_list<E> choices) {
  std::string names;
  std::size_t i = 0;
  for (E c : choices) {
    if (s == to_string(c)) return c;
    names += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + to_string(c);
    ++i;
  }
  throw ConfigError(what + ": expected " + names + ", found '" + s + "'");
}

Config defaults(Command cmd) {
  Config d;
  if (cmd == Command::Bench) d.train_samples = 5000;  // a fixed amount of work, a few seconds
  return d;
}

po::options_description eval_options(EvalArgs& a) {
  po::options_description opts("eqprop eval options");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("checkpoint", val(&a.checkpoint, a.checkpoint), "the checkpoint to evaluate")
    ("split", val(&a.split, a.split), "train, valid or test")
    ("data", val(&a.data, a.data), "the data set, in the run's format (default: the one the run was trained with)")
    ("threads", val(&a.threads, a.threads), "worker threads (default: all this process may use)")
    ("steps", val(&a.steps, a.steps), "free-phase steps (0: n-free from particles, test-steps from zero)")
    ("from-zero", val(&a.from_zero, a.from_zero), "start from zero states even where particles were saved")
    ("per-class", po::bool_switch(&a.per_class), "also the error of every class and the confusion matrix (rows: true class, columns: predicted)")
    ("json", po::bool_switch(&a.json), "print one JSON object (the figures, and with --per-class per_class and confusion) instead of text")
    ("relax", val(&a.relax, a.relax), "sync or alternating (default: the run's)")
    ("tol", val(&a.tol, a.tol), "stop the free phase after the first step or sweep whose largest state change is below this (default: the run's; 0: all steps)");
  // clang-format on
  return opts;
}

po::options_description predict_options(PredictArgs& a) {
  po::options_description opts("eqprop predict options");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("checkpoint", val(&a.checkpoint, a.checkpoint), "the trained model (any checkpoint of a run)")
    ("input", val(&a.input, a.input), "the images: .npy, .npz (x [and y], else x_test [and y_test], else its only array), "
                                      ".bin (a CIFAR binary file), else an IDX images file (raw or .gz); the run's image shape")
    ("labels", val(&a.labels, a.labels), "labels of .npy or IDX images (an IDX labels file or an integer .npy): the error is reported "
                                         "and the output gets a label column")
    ("output", val(&a.output, a.output), "OUT.csv, OUT.npy (the predicted classes, int64) or OUT.npz (predicted, scores, labels, "
                                         "and with --states h1..hL); default: CSV on standard output")
    ("states", po::bool_switch(&a.states), "also every layer's relaxed states (csv: columns hK_i; npz: hK as N x n_K, or N x C x H x W for conv layers; "
                                          "not the cross-entropy readout, whose logits are the scores)")
    ("threads", val(&a.threads, a.threads), "worker threads (default: all this process may use)")
    ("steps", val(&a.steps, a.steps), "free-phase steps from zero states (0: the run's test-steps)");
  // clang-format on
  return opts;
}

po::options_description make_dataset_options(MakeDatasetArgs& a) {
  po::options_description opts("eqprop make-dataset options");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("data", val(&a.data, a.data), "MNIST's folder of IDX files (raw or .gz)")
    ("npz", val(&a.npz, a.npz), "write an .npz here: x_train, y_train, x_test, y_test as MNIST holds them")
    ("cifar", val(&a.cifar, a.cifar), "write a CIFAR-10 binary folder here: 3x32x32 (padded by 2, 3 channels)");
  // clang-format on
  return opts;
}

po::options_description file_options(FileArgs& a, Command cmd) {
  po::options_description opts(cmd == Command::Info ? "eqprop info options" : "eqprop export options");
  opts.add_options()("help,h", "print this help and exit")(
      "checkpoint", val(&a.checkpoint, a.checkpoint), "the checkpoint file (or give it as the first word)");
  if (cmd == Command::Info) {
    opts.add_options()("json", po::bool_switch(&a.json), "print one JSON object (progress, data, configuration, tensors, curves) instead of text");
  }
  if (cmd == Command::Export) {
    opts.add_options()("npz", val(&a.npz, a.npz), "the .npz file to write")(
        "particles", val(&a.particles, a.particles),
        "also the persistent particles: train_h1..train_hL, valid_h1..valid_hL ([examples x n_k])");
  }
  return opts;
}

// Boost.Program_options (1.74) builds its error messages by replacing placeholders such as
// %value% with the offending text; if that text itself holds a placeholder the replacement
// loop never ends (found by fuzz_config: `--epochs %value%` hung). Input holding
// %name% is therefore refused before Program_options sees it.
void refuse_placeholders(const std::string& text, const std::string& where) {
  for (std::size_t open = text.find('%'); open != std::string::npos; open = text.find('%', open + 1)) {
    std::size_t end = open + 1;
    // Any case: Boost lowercases a bad boolean value before it substitutes it, so %VALUE% would
    // become %value% and loop (found by fuzz_config).
    while (end < text.size() && (std::isalpha(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
    if (end > open + 1 && end < text.size() && text[end] == '%') {
      throw ConfigError(where + ": '" + text.substr(open, end - open + 1) +
                        "' is not accepted in an option or value (text of the form %name% is reserved)");
    }
  }
}

// How deep `include` lines may nest: deep enough for a recipe built on a recipe built on a
// network, shallow enough that a mistake is reported instead of followed.
constexpr std::size_t kMaxIncludeDepth = 8;

// Reads the config file at path into vm, then the files its `include = FILE` lines name
// (relative to its folder), in order. po::store keeps the first value it sees for a key, so
// the command line (stored before) wins over the file, the file over what it includes, and an
// earlier include over a later one. open_files holds the chain of files being read, to refuse
// a file that includes itself. Every error is a ConfigError naming the file.
void store_config_file(const std::filesystem::path& path, const po::options_description& opts,
                       po::variables_map& vm, std::vector<std::filesystem::path>& open_files) {
  const std::string where = "config file '" + path.string() + "'";
  // A folder opens as an empty stream and /dev/zero never ends: only regular files of a
  // sensible size are config files.
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw ConfigError(where + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec)) throw ConfigError(where + ": not a regular file");
  if (std::filesystem::file_size(path, ec) > (1u << 20)) throw ConfigError(where + ": larger than 1 MiB, not a config file");
  std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) canonical = std::filesystem::absolute(path, ec).lexically_normal();
  if (std::find(open_files.begin(), open_files.end(), canonical) != open_files.end())
    throw ConfigError(where + ": includes itself (through " + open_files.back().string() + ")");
  if (open_files.size() >= kMaxIncludeDepth)
    throw ConfigError(where + ": includes nested more than " + std::to_string(kMaxIncludeDepth) + " deep");
  std::ifstream file(path);
  if (!file) throw ConfigError(where + ": cannot open for reading");
  std::ostringstream text;
  text << file.rdbuf();
  refuse_placeholders(text.str(), where);

  // `include` is not an option (it means nothing on a command line), so its lines are taken
  // out here and the rest goes to Program_options, which knows the keys.
  std::istringstream lines(text.str());
  std::string rest, line;
  std::vector<std::filesystem::path> includes;
  while (std::getline(lines, line)) {
    // As Program_options reads a line: '#' starts a comment, blanks around key and value.
    std::string bare = line.substr(0, line.find('#'));
    const std::size_t eq = bare.find('=');
    auto trim = [](std::string t) {
      t.erase(0, t.find_first_not_of(" \t\r"));
      t.erase(t.find_last_not_of(" \t\r") + 1);
      return t;
    };
    if (eq == std::string::npos || trim(bare.substr(0, eq)) != "include") {
      rest += line + "\n";
      continue;
    }
    const std::string name = trim(bare.substr(eq + 1));
    if (name.empty()) throw ConfigError(where + ": 'include' names no file");
    const std::filesystem::path named(name);
    includes.push_back(named.is_absolute() ? named : path.parent_path() / named);
  }
  std::istringstream in(rest);
  try {
    po::store(po::parse_config_file(in, opts, /*allow_unregistered=*/false), vm);
  } catch (const po::error& e) {
    throw ConfigError(where + ": " + e.what());
  }
  open_files.push_back(canonical);
  for (const auto& inc : includes) store_config_file(inc, opts, vm, open_files);
  open_files.pop_back();
}

// Parses words against opts (and, if given, the config file named by --config) into vm.
// positional: the option that takes one bare word, or null. Every error is a ConfigError.
po::variables_map parse_words(const std::vector<std::string>& args, const po::options_description& opts,
                              const char* command, const char* positional) {
  po::variables_map vm;
  for (const auto& w : args) refuse_placeholders(w, "command line");
  try {
    // Bare words beyond the allowed positional one are collected under a hidden name so
    // the error can quote them; no guessing, so a typo is not taken as another option's prefix.
    po::options_description all = opts;
    all.add_options()("stray-words", po::value<std::vector<std::string>>());
    po::positional_options_description pos;
    if (positional) pos.add(positional, 1);
    pos.add("stray-words", -1);
    // Stored first, so a config file stored later cannot override it.
    po::store(po::command_line_parser(args)
                  .options(all)
                  .positional(pos)
                  .style(po::command_line_style::unix_style ^ po::command_line_style::allow_guessing)
                  .run(),
              vm);
    if (vm.count("stray-words")) {
      throw ConfigError("unexpected argument '" + vm["stray-words"].as<std::vector<std::string>>().front() +
                        "' (options take the form --key value; see eqprop " + command + " --help)");
    }
    if (opts.find_nothrow("config", false) && vm.count("config")) {
      std::vector<std::filesystem::path> open_files;
      store_config_file(vm["config"].as<std::string>(), opts, vm, open_files);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(e.what());
  }
  return vm;
}

}  // namespace

TrainArgs parse_train_args(const std::vector<std::string>& args, Command cmd, const Config* base, bool validate, int ranks) {
  RawOptions r;
  Config d = base ? *base : defaults(cmd);
  if (base) {
    // A resumed run continues the stored run; what stopped it is not carried over.
    d.resume = defaults(cmd).resume;
    d.max_minibatches = defaults(cmd).max_minibatches;
    d.threads = defaults(cmd).threads;  // this machine's, not the one the run started on
  }
  const po::options_description opts = make_options(r, d, cmd);
  const po::variables_map vm = parse_words(args, opts, cmd == Command::Train ? "train" : "bench", nullptr);
  TrainArgs out;
  out.help = vm.count("help") > 0;
  out.dump_config = vm.count("dump-config") > 0;
  if (out.help) return out;
  r.cfg.hidden = parse_list<int>("hidden", r.hidden);
  r.cfg.layers.clear();
  if (r.layers.find_first_not_of(" \t") != std::string::npos) r.cfg.layers = parse_layers(r.layers);
  r.cfg.alphas = parse_list<float>("alphas", r.alphas);
  r.cfg.nudging = parse_choice("config key 'nudging'", r.nudging, {Nudging::OneSided, Nudging::Symmetric});
  r.cfg.beta_sign = parse_choice("config key 'beta-sign'", r.beta_sign, {BetaSign::Random, BetaSign::Positive});
  r.cfg.seed = parse_seed(r.seed);
  r.cfg.chunk = parse_chunk(r.chunk, r.cfg.batch, r.cfg.threads, ranks);
  r.cfg.dataset = parse_choice("config key 'dataset'", r.dataset, {DatasetName::Mnist, DatasetName::FashionMnist, DatasetName::Idx, DatasetName::Npz, DatasetName::Cifar10, DatasetName::Cifar100});
  r.cfg.label = parse_choice("config key 'label'", r.label, {LabelKind::Fine, LabelKind::Coarse});
  r.cfg.normalize = parse_choice("config key 'normalize'", r.normalize, {Normalize::None, Normalize::MeanStd});
  r.cfg.relax = parse_choice("config key 'relax'", r.relax, {RelaxScheme::Sync, RelaxScheme::Alternating});
  r.cfg.relax_nudged = parse_choice("config key 'relax-nudged'", r.relax_nudged, {NudgedRelax::Same, NudgedRelax::Sync});
  r.cfg.readout = parse_choice("config key 'readout'", r.readout, {Readout::Mse, Readout::CrossEntropy});
  r.cfg.lr_schedule = parse_choice("config key 'lr-schedule'", r.lr_schedule, {LrSchedule::Decay, LrSchedule::Cosine});
  // Another data set without --data: its own standard folder, not the base's.
  if (vm["data"].defaulted() && r.cfg.dataset != d.dataset) r.cfg.data = default_data_dir(r.cfg.dataset);
  r.cfg.facts = d.facts;  // not a key: a resumed run's data facts come with its checkpoint
  if (validate) r.cfg.validate();
  out.cfg = r.cfg;
  return out;
}

namespace {

// The options eval and predict share: the saved model, a thread count, free-phase steps.
void check_model_options(const std::string& checkpoint, int threads, int steps) {
  if (checkpoint.empty()) throw ConfigError("option '--checkpoint': expected a checkpoint file, found none");
  if (threads < 1) throw ConfigError("option '--threads': expected a thread count >= 1, found " + text(threads));
  if (steps < 0) throw ConfigError("option '--steps': expected 0 (default) or a count, found " + text(steps));
}

}  // namespace

EvalArgs parse_eval_args(const std::vector<std::string>& args) {
  EvalArgs a;
  const po::options_description opts = eval_options(a);
  const po::variables_map vm = parse_words(args, opts, "eval", nullptr);
  a.help = vm.count("help") > 0;
  if (a.help) return a;
  check_model_options(a.checkpoint, a.threads, a.steps);
  if (a.split != "train" && a.split != "valid" && a.split != "test")
    throw ConfigError("option '--split': expected train, valid or test, found '" + a.split + "'");
  if (!a.relax.empty())
    a.relax_scheme = parse_choice("option '--relax'", a.relax, {RelaxScheme::Sync, RelaxScheme::Alternating});
  if (!(a.tol < 1.f)) throw ConfigError("option '--tol': expected a state change below 1, found " + text(a.tol));
  return a;
}

PredictArgs parse_predict_args(const std::vector<std::string>& args) {
  PredictArgs a;
  const po::options_description opts = predict_options(a);
  const po::variables_map vm = parse_words(args, opts, "predict", nullptr);
  a.help = vm.count("help") > 0;
  if (a.help) return a;
  check_model_options(a.checkpoint, a.threads, a.steps);
  if (a.input.empty()) throw ConfigError("option '--input': expected a file of images, found none");
  auto ends = [&](const char* ext) {
    const std::size_t n = std::strlen(ext);
    return a.output.size() > n && a.output.compare(a.output.size() - n, n, ext) == 0;
  };
  if (!a.output.empty() && !ends(".csv") && !ends(".npy") && !ends(".npz"))
    throw ConfigError("option '--output': expected a file ending in .csv, .npy or .npz, found '" + a.output + "'");
  if (a.states && ends(".npy"))
    throw ConfigError("option '--states': a .npy file holds one array (the predicted classes); write the states to .npz or .csv");
  return a;
}

MakeDatasetArgs parse_make_dataset_args(const std::vector<std::string>& args) {
  MakeDatasetArgs a;
  const po::options_description opts = make_dataset_options(a);
  const po::variables_map vm = parse_words(args, opts, "make-dataset", nullptr);
  a.help = vm.count("help") > 0;
  if (a.help) return a;
  if (a.npz.empty() && a.cifar.empty()) throw ConfigError("expected --npz FILE, --cifar DIR or both");
  return a;
}

FileArgs parse_file_args(const std::vector<std::string>& args, Command cmd) {
  FileArgs a;
  const po::options_description opts = file_options(a, cmd);
  const po::variables_map vm = parse_words(args, opts, cmd == Command::Info ? "info" : "export", "checkpoint");
  a.help = vm.count("help") > 0;
  if (a.help) return a;
  if (a.checkpoint.empty()) throw ConfigError("expected a checkpoint file: eqprop " + std::string(cmd == Command::Info ? "info" : "export") + " PATH");
  if (cmd == Command::Export && a.npz.empty()) throw ConfigError("option '--npz': expected an output .npz path, found none");
  return a;
}

std::string help_text(Command cmd) {
  const CommandEntry& entry = command_entry(cmd);
  std::ostringstream os;
  os << "usage: " << entry.usage << "\n\n" << entry.about << "\n\n";
  if (cmd == Command::Train || cmd == Command::Bench) {
    RawOptions r;
    os << make_options(r, defaults(cmd), cmd);
  } else if (cmd == Command::Eval) {
    EvalArgs a;
    os << eval_options(a);
  } else if (cmd == Command::Predict) {
    PredictArgs a;
    os << predict_options(a);
  } else if (cmd == Command::MakeDataset) {
    MakeDatasetArgs a;
    os << make_dataset_options(a);
  } else {
    FileArgs a;
    os << file_options(a, cmd);
  }
  return os.str();
}

std::string format_config(const Config& c) {
  // Walk the option table with c as the defaults: every key that has a value is printed,
  // so a new option appears here without a second list to keep in step.
  RawOptions r;
  const po::options_description opts = make_options(r, c, Command::Train);
  std::ostringstream os;
  for (const auto& opt : opts.options()) {
    boost::any v;
    if (!opt->semantic()->apply_default(v)) continue;
    os << opt->long_name() << " = ";
    if (const auto* i = boost::any_cast<int>(&v)) os << text(*i);
    else if (const auto* f = boost::any_cast<float>(&v)) os << text(*f);
    else if (const auto* b = boost::any_cast<bool>(&v)) os << text(*b);
    else os << boost::any_cast<std::string>(v);
    os << "\n";
  }
  return os.str();
}

}  // namespace eqprop
