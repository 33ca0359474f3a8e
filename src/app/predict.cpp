// The `predict` command: a saved model's classes, class scores and (on request) relaxed states
// for the images of one file. The relaxation is evaluation's (free phase from zero states in the
// evaluation chunks), so on the run's test files it counts exactly the errors `eval` counts.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <sstream>

#include "eqprop/error.hpp"
#include "eqprop/io/atomic_file.hpp"
#include "eqprop/io/checkpoint.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/io/metrics.hpp"
#include "eqprop/io/npz.hpp"
#include "eqprop/io/sources.hpp"
#include "eqprop/engine/trainer.hpp"
#include "eqprop/app/commands.hpp"

namespace eqprop {
namespace {

bool ends_with(const std::string& s, const char* ext) {
  const std::size_t n = std::strlen(ext);
  return s.size() > n && s.compare(s.size() - n, n, ext) == 0;
}

// The shortest text that reads back as the same float.
void put_float(std::string& s, float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}

// The layers whose states are written: all, but with the cross-entropy readout not the last,
// which holds the readout's nudge (zero in a free phase); the scores are its logits.
int state_layers(const Network& net) { return net.layers() - (net.softmax_readout ? 1 : 0); }

// The dims of layer k's states for n examples: (n, n_k), or (n, C, H, W) for a conv layer.
std::vector<std::size_t> state_dims(const Network& net, int k, int n) {
  std::vector<std::size_t> dims = {std::size_t(n)};
  if (!net.conv(k)) {
    dims.push_back(std::size_t(net.sizes[k]));
  } else {
    const Shape s = net.shape(k);
    dims.insert(dims.end(), {std::size_t(s.c), std::size_t(s.h), std::size_t(s.w)});
  }
  return dims;
}

template <typename T>
NpyTensor tensor(const std::string& name, std::vector<std::size_t> shape, NpyType type, const T* data, std::size_t n) {
  NpyTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = type;
  t.bytes.resize(n * sizeof(T));
  if (n) std::memcpy(t.bytes.data(), data, n * sizeof(T));
  return t;
}

struct Predictions {
  const Dataset* data = nullptr;
  bool labelled = false;
  int classes = 0;
  std::vector<std::int64_t> predicted;  // [count]
  std::vector<float> scores;            // [count x classes]
  const Particles* states = nullptr;    // every layer's states, or null
};

// CSV: a header, then one row per image: index, predicted, (label), scores, (states).
std::string csv_text(const Predictions& p, const Network& net) {
  std::string s = "index,predicted";
  if (p.labelled) s += ",label";
  for (int c = 0; c < p.classes; ++c) s += ",score_" + std::to_string(c);
  const int L = state_layers(net);
  for (int k = 1; p.states && k <= L; ++k)
    for (int i = 0; i < p.states->size(k); ++i) s += ",h" + std::to_string(k) + "_" + std::to_string(i);
  s += "\n";
  for (int i = 0; i < p.data->count; ++i) {
    s += std::to_string(i) + "," + std::to_string(p.predicted[i]);
    if (p.labelled) s += "," + std::to_string(p.data->y[i]);
    for (int c = 0; c < p.classes; ++c) s += ",", put_float(s, p.scores[std::size_t(i) * p.classes + c]);
    for (int k = 1; p.states && k <= L; ++k) {
      const float* row = p.states->row(k, i);
      for (int j = 0; j < p.states->size(k); ++j) s += ",", put_float(s, row[j]);
    }
    s += "\n";
  }
  return s;
}

void write_npz_output(const std::string& path, const Predictions& p, const Network& net) {
  const std::size_t n = std::size_t(p.data->count);
  std::vector<NpyTensor> arrays;
  arrays.push_back(tensor("predicted", {n}, NpyType::Int64, p.predicted.data(), n));
  arrays.push_back(tensor("scores", {n, std::size_t(p.classes)}, NpyType::Float32, p.scores.data(), p.scores.size()));
  if (p.labelled) {
    const std::vector<std::int64_t> labels(p.data->y.begin(), p.data->y.end());
    arrays.push_back(tensor("labels", {n}, NpyType::Int64, labels.data(), n));
  }
  for (int k = 1; p.states && k <= state_layers(net); ++k)
    arrays.push_back(tensor("h" + std::to_string(k), state_dims(net, k, p.data->count), NpyType::Float32,
                            p.states->h[k].data(), n * std::size_t(p.states->size(k))));
  write_npz(path, arrays);
}

}  // namespace

int run_predict(const Words& args, std::ostream& out, std::ostream& err, const Runtime&) {
  const PredictArgs a = parse_predict_args(args);
  if (a.help) return out << help_text(Command::Predict), 0;
  // Refuse an output path that cannot be written before the relaxation's work.
  if (!a.output.empty()) {
    const std::string problem = atomic_write_problem(a.output);
    if (!problem.empty()) throw ConfigError("option '--output': " + problem);
  }
  TrainState st = load_checkpoint(a.checkpoint);
  InputImages in = read_input_file(a.input, a.labels, st.cfg.facts.classes);
  check_array_split(st.cfg.facts, in.data);  // the run's shape; labels within its classes
  // Only the model is needed: no training data, no particles, no epoch in progress.
  st.in_epoch = false;
  st.cursor = 0;
  st.order.clear();
  st.has_particles = false;
  st.train_particles = st.valid_particles = Particles{};
  const int steps = a.steps > 0 ? a.steps : st.cfg.test_steps;
  const ThreadSetup thread_setup(a.threads);
  const Dataset none;
  Trainer trainer(std::move(st), none, none);

  Predictions p;
  p.data = &in.data;
  p.labelled = in.labelled;
  p.classes = trainer.network().sizes.back();
  const auto t0 = std::chrono::steady_clock::now();
  Particles states;
  const StateStats s = a.states ? trainer.relax_states(in.data, steps, 0.f, 0, states, &p.scores)
                                : trainer.evaluate(in.data, steps, nullptr, &p.scores);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.states) p.states = &states;
  // The first largest score: the prediction evaluation's error count uses.
  p.predicted.resize(std::size_t(in.data.count));
  for (int i = 0; i < in.data.count; ++i) {
    const float* row = p.scores.data() + std::size_t(i) * p.classes;
    p.predicted[i] = std::max_element(row, row + p.classes) - row;
  }

  const Network& net = trainer.network();
  if (a.output.empty()) {
    out << csv_text(p, net);
  } else if (ends_with(a.output, ".csv")) {
    write_file_atomically(a.output, csv_text(p, net), "output file '" + a.output + "'", "a previous file there is kept");
  } else if (ends_with(a.output, ".npy")) {
    write_npy(a.output, tensor("predicted", {p.predicted.size()}, NpyType::Int64, p.predicted.data(), p.predicted.size()));
  } else {
    write_npz_output(a.output, p, net);
  }
  // The summary goes where it does not mix with the predictions.
  std::ostream& note = a.output.empty() ? err : out;
  note << "predicted " << in.data.count << " images of " << in.data.shape_text() << " from '" << a.input << "': "
       << steps << " free steps from zero states, " << a.threads << " threads, " << secs << " s";
  if (in.labelled)
    note << "; " << s.errors << " errors (" << error_percent(s) << "%) against the labels of '"
         << in.data.label_file << "'";
  if (!a.output.empty()) note << "; written to '" << a.output << "'";
  note << "\n";
  return 0;
}

}  // namespace eqprop
