#include "eqprop/io/checkpoint_schema.hpp"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/array.hpp>

#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace eqprop {
namespace {

// Every length in the payload is checked against the bytes left in it before anything is
// allocated: even a file with a correct checksum (a buggy writer, a crafted file) cannot
// make the decoder allocate more than the file holds.
struct Budget {
  std::uint64_t left;
  void take(std::uint64_t count, std::uint64_t item_bytes) {
    if (item_bytes != 0 && count > left / item_bytes)
      throw std::length_error("a stored length exceeds the payload");
    left -= count * item_bytes;
  }
};

template <class A, class T>
void vec(A& ar, std::vector<T>& v, Budget& b) {
  static_assert(std::is_arithmetic_v<T>);
  std::uint64_t n = v.size();
  ar & n;
  if constexpr (A::is_loading::value) {
    b.take(n, sizeof(T));
    v.resize(n);
  }
  if (n) ar & boost::serialization::make_array(v.data(), n);
}
template <class A, class T>
void vecs(A& ar, std::vector<std::vector<T>>& v, Budget& b) {
  std::uint64_t n = v.size();
  ar & n;
  if constexpr (A::is_loading::value) {
    b.take(n, sizeof(std::uint64_t));  // each inner vector stores at least its length
    v.resize(n);
  }
  for (auto& inner : v) vec(ar, inner, b);
}
template <class A>
void str(A& ar, std::string& s, Budget& b) {
  std::vector<char> chars(s.begin(), s.end());
  vec(ar, chars, b);
  s.assign(chars.begin(), chars.end());
}

// A bool goes through a byte checked on loading: reading any other byte value into a bool
// is undefined behaviour (found by fuzz_checkpoint).
template <class A>
void flag(A& ar, bool& v) {
  std::uint8_t byte = v ? 1 : 0;
  ar & byte;
  if (byte > 1) throw std::range_error("a stored flag is neither 0 nor 1");
  v = byte == 1;
}

// format: the file's format version. Older files load the keys they predate with their
// defaults (version 1: dataset, train-on-all, lr-decay; version 2: weight-decay, persistent-particles;
// version 3: max-shift; version 4: the data keys and facts, which older files hold as MNIST's).
template <class A>
void serialize_config(A& ar, Config& c, Budget& b, std::uint32_t format) {
  int nudging = static_cast<int>(c.nudging), sign = static_cast<int>(c.beta_sign);
  int dataset = static_cast<int>(c.dataset);
  vec(ar, c.hidden, b);
  ar & c.epochs & c.batch & c.n_free & c.n_nudged & c.test_steps & c.eps & c.beta;
  vec(ar, c.alphas, b);
  ar & nudging & sign;
  flag(ar, c.shuffle);
  ar & c.seed;
  str(ar, c.data, b);
  ar & c.train_samples & c.valid_samples & c.threads & c.chunk & c.eval_chunk;
  str(ar, c.metrics, b);
  str(ar, c.checkpoint, b);
  ar & c.checkpoint_every;
  flag(ar, c.checkpoint_particles);
  str(ar, c.resume, b);
  ar & c.max_minibatches;
  flag(ar, c.progress);
  if (format >= 2) {
    ar & dataset;
    flag(ar, c.train_on_all);
    ar & c.lr_decay;
  }
  if (format >= 3) {
    ar & c.weight_decay;
    flag(ar, c.persistent_particles);
  }
  if (format >= 4) ar & c.max_shift;
  int label = static_cast<int>(c.label), normalize = static_cast<int>(c.normalize), relax = static_cast<int>(c.relax);
  if (format >= 5) {
    ar & c.classes & label & c.valid_count & normalize & relax & c.tol;
    flag(ar, c.flip);
    DataFacts& f = c.facts;
    ar & f.channels & f.height & f.width & f.classes;
    vec(ar, f.mean, b);
    vec(ar, f.stddev, b);
    const bool sane = f.channels > 0 && f.height > 0 && f.width > 0 && f.classes > 0 && f.classes <= kMaxClasses &&
                      std::uint64_t(f.channels) * f.height * f.width <= 100'000'000 && f.mean.size() == f.stddev.size() &&
                      (f.mean.empty() || f.mean.size() == std::size_t(f.channels));
    if (!sane) throw std::range_error("bad data facts");
  }
  int relax_nudged = static_cast<int>(c.relax_nudged);
  if (format >= 6) ar & relax_nudged;
  if (format >= 7) {
    std::string layers = format_layers(c.layers);
    str(ar, layers, b);
    try {
      c.layers.clear();
      if (layers.find_first_not_of(' ') != std::string::npos) c.layers = parse_layers(layers);
    } catch (const std::exception&) {
      throw std::range_error("bad layer entries");
    }
  }
  int schedule = static_cast<int>(c.lr_schedule), readout = static_cast<int>(c.readout);
  if (format >= 8) ar & c.momentum & schedule & readout;
  if (format >= 9) {
    str(ar, c.keep_best, b);
    ar & c.patience;
    flag(ar, c.diagnostics);
  }
  if (nudging < 0 || nudging > 1 || sign < 0 || sign > 1 || dataset < 0 || dataset > 5 || label < 0 || label > 1 ||
      normalize < 0 || normalize > 1 || relax < 0 || relax > 1 || relax_nudged < 0 || relax_nudged > 1 ||
      schedule < 0 || schedule > 1 || readout < 0 || readout > 1)
    throw std::range_error("bad enumeration value");
  c.relax = static_cast<RelaxScheme>(relax);
  c.relax_nudged = static_cast<NudgedRelax>(relax_nudged);
  c.lr_schedule = static_cast<LrSchedule>(schedule);
  c.readout = static_cast<Readout>(readout);
  c.label = static_cast<LabelKind>(label);
  c.normalize = static_cast<Normalize>(normalize);
  c.dataset = static_cast<DatasetName>(dataset);
  c.nudging = static_cast<Nudging>(nudging);
  c.beta_sign = static_cast<BetaSign>(sign);
}
template <class A>
void serialize_net(A& ar, Network& n, Budget& b) {
  vec(ar, n.sizes, b);
  vecs(ar, n.W, b);
  vecs(ar, n.b, b);
}
template <class A>
void serialize_states(A& ar, LayerStates<float>& s, Budget& b) {
  ar & s.capacity;
  vecs(ar, s.h, b);
}
template <class A>
void serialize_stats(A& ar, StateStats& s, Budget& b, std::uint32_t format) {
  ar & s.energy & s.cost & s.errors & s.count;
  if (format >= 5) ar & s.free_steps & s.nudged_steps;
  if (format >= 9) {
    vec(ar, s.at0, b);
    vec(ar, s.at1, b);
    vec(ar, s.units, b);
    vec(ar, s.active, b);
  }
}
template <class A>
void serialize_epoch(A& ar, EpochStats& e, Budget& b, std::uint32_t format) {
  ar & e.epoch;
  serialize_stats(ar, e.train, b, format);
  serialize_stats(ar, e.valid, b, format);
  vec(ar, e.rel_change, b);
  ar & e.seconds & e.train_seconds & e.relax_seconds & e.update_seconds & e.valid_seconds & e.threads;
}
template <class A>
void serialize_state(A& ar, TrainState& s, bool particles, Budget& b, std::uint32_t format) {
  serialize_config(ar, s.cfg, b, format);
  serialize_net(ar, s.net, b);
  std::array<std::uint64_t, 4> rng = s.rng.state();
  ar & rng;
  s.rng.set_state(rng);
  ar & s.epochs_done;
  flag(ar, s.in_epoch);
  ar & s.cursor;
  vec(ar, s.order, b);
  serialize_epoch(ar, s.current, b, format);
  serialize_net(ar, s.epoch_start, b);
  std::uint64_t n = s.curves.size();
  ar & n;
  if constexpr (A::is_loading::value) {
    b.take(n, 64);  // an epoch row stores more than 64 bytes
    s.curves.resize(n);
  }
  for (auto& e : s.curves) serialize_epoch(ar, e, b, format);
  if (format >= 8) serialize_net(ar, s.velocity, b);  // empty without momentum
  if (particles) {
    serialize_states(ar, s.train_particles, b);
    serialize_states(ar, s.valid_particles, b);
  }
}

}  // namespace

std::string encode_payload(const TrainState& state, bool with_particles, std::uint32_t format) {
  std::ostringstream payload(std::ios::binary);
  {
    // no_header: our own header says what the file is; Boost's would only add its version string.
    boost::archive::binary_oarchive ar(payload, boost::archive::no_header);
    Budget unused{0};
    // Saving only reads the state: the shared save/load code takes a mutable reference.
    serialize_state(ar, const_cast<TrainState&>(state), with_particles, unused, format);
  }
  return payload.str();
}

TrainState decode_payload(const std::string& payload, bool with_particles, std::uint32_t format) {
  TrainState state;
  std::istringstream in(payload, std::ios::binary);
  boost::archive::binary_iarchive ar(in, boost::archive::no_header);
  Budget budget{payload.size()};
  serialize_state(ar, state, with_particles, budget, format);
  if (in.peek() != std::char_traits<char>::eof()) throw std::runtime_error("bytes left over after the state");
  return state;
}

}  // namespace eqprop
