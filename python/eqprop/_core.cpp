// eqprop._core: the compiled half of the Python package (python/eqprop/__init__.py is the
// other). It sits at the app layer's height: the configuration goes through the command line's
// option table (parse_train_args), data through io's checks, training through the engine's
// Trainer, checkpoints through io, so Python and the CLI compute the same bits and refuse the
// same inputs with the same messages. Library errors become Python exceptions here, in one
// translator: bad input (InputError: ConfigError, DataError, CheckpointError) ValueError, a
// diverged run eqprop.DivergenceError (a RuntimeError).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eqprop/error.hpp"
#include "eqprop/version.hpp"
#include "eqprop/io/checkpoint.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/io/metrics.hpp"
#include "eqprop/kernels/blas_choice.hpp"
#include "eqprop/engine/trainer.hpp"
#include "eqprop/app/cli.hpp"
#include "eqprop/app/run_data.hpp"
#include "eqprop/app/runtime.hpp"

namespace py = pybind11;
using namespace eqprop;

namespace {

// ---- configuration ------------------------------------------------------------------------

// words: command-line words (`--key value`), the Python keyword arguments spelled as the CLI
// spells them. base: the configuration to layer them over (a checkpoint's), or null.
Config parse_config(const std::vector<std::string>& words, const Config* base) {
  for (const std::string& w : words) {
    if (w == "--help" || w == "-h" || w == "--dump-config")
      throw ConfigError("option '" + w + "' belongs to the command line: use help(eqprop.Config) and Config.dump()");
  }
  return parse_train_args(words, Command::Train, base).cfg;
}

// ---- data ---------------------------------------------------------------------------------

// One split for Python: a Dataset that owns its images (read from files) or views a NumPy
// array (kept alive by `owner`), and its class count (the format's, or the labels' largest + 1).
struct PyData {
  Dataset d;
  py::object owner;  // the images array a view points into (None when d owns its images)
  int classes = 0;
};
using PyDataPtr = std::shared_ptr<PyData>;

[[noreturn]] void bad_array(const std::string& what, const std::string& msg) {
  throw py::value_error(what + ": " + msg);
}

// images: (N, H, W), (N, C, H, W), or (N, D) with shape = (C, H, W); uint8 (a byte b is the
// value b / 255, as MNIST's files) or float32 (the values). Viewed without a copy when the
// array is C-contiguous, else copied. labels: N integers.
PyDataPtr make_data(py::array images, py::array labels, std::optional<std::vector<int>> shape, const std::string& name) {
  auto out = std::make_shared<PyData>();
  Dataset& d = out->d;
  d.name = name;
  d.file = "array 'images' of the " + name + " split";
  d.label_file = "array 'labels' of the " + name + " split";
  const bool u8 = py::dtype::of<std::uint8_t>().is(images.dtype());
  const bool f32 = py::dtype::of<float>().is(images.dtype());
  if (!u8 && !f32) {
    bad_array(d.file, "dtype " + std::string(py::str(images.dtype())) +
                          "; expected uint8 (a byte b is the value b / 255) or float32 (convert with images.astype(numpy.float32))");
  }
  const py::ssize_t nd = images.ndim();
  const py::ssize_t n = nd > 0 ? images.shape(0) : 0;
  if (nd == 3) {
    d.channels = 1, d.height = int(images.shape(1)), d.width = int(images.shape(2));
  } else if (nd == 4) {
    d.channels = int(images.shape(1)), d.height = int(images.shape(2)), d.width = int(images.shape(3));
  } else if (nd == 2 && shape) {
    if (shape->size() != 3 || (*shape)[0] < 1 || (*shape)[1] < 1 || (*shape)[2] < 1 ||
        py::ssize_t((*shape)[0]) * (*shape)[1] * (*shape)[2] != images.shape(1)) {
      bad_array(d.file, "shape= must be (C, H, W) with C * H * W = " + std::to_string(images.shape(1)) +
                            ", the values per image");
    }
    d.channels = (*shape)[0], d.height = (*shape)[1], d.width = (*shape)[2];
  } else {
    bad_array(d.file, std::to_string(nd) + " dimensions; expected (N, H, W) or (N, C, H, W) (or (N, C*H*W) with shape=(C, H, W))");
  }
  if (nd != 2 && shape) bad_array(d.file, "shape= is for (N, C*H*W) arrays only; this one is already shaped");
  if (n > std::numeric_limits<int>::max() || d.channels < 1 || d.height < 1 || d.width < 1)
    bad_array(d.file, "an empty or too large image shape");
  d.count = int(n);
  d.floats = f32;
  const bool contiguous = (images.flags() & py::array::c_style) != 0;
  if (contiguous) {
    if (f32) d.xf_view = static_cast<const float*>(images.data());
    else d.x_view = static_cast<const std::uint8_t*>(images.data());
    out->owner = images;
  } else {
    // A strided array (a slice with a step, a transposed view): one contiguous copy.
    if (f32) {
      auto c = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(images);
      d.xf.assign(c.data(), c.data() + c.size());
    } else {
      auto c = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(images);
      d.x.assign(c.data(), c.data() + c.size());
    }
  }
  if (labels.ndim() != 1 || labels.shape(0) != n) {
    bad_array(d.label_file, "expected one label per image, " + std::to_string(n) + " in one dimension");
  }
  const char kind = labels.dtype().kind();
  if (kind != 'i' && kind != 'u') {
    bad_array(d.label_file, "dtype " + std::string(py::str(labels.dtype())) + "; expected integers (class indices)");
  }
  auto y = py::array_t<long long, py::array::forcecast>::ensure(labels);
  d.y.resize(std::size_t(n));
  auto yv = y.unchecked<1>();
  int largest = -1;
  for (py::ssize_t i = 0; i < n; ++i) {
    const long long v = yv(i);
    if (v < 0 || v >= kMaxClasses) {
      bad_array(d.label_file, "label " + std::to_string(v) + " at index " + std::to_string(i) + " is outside 0-" +
                                  std::to_string(kMaxClasses - 1));
    }
    d.y[std::size_t(i)] = Label(v);
    largest = std::max(largest, int(v));
  }
  out->classes = largest + 1;
  return out;
}

// A split of files (load_splits) for Python.
PyDataPtr own_data(Dataset&& d, int classes) {
  auto out = std::make_shared<PyData>();
  out->d = std::move(d);
  out->classes = classes;
  return out;
}

// A Trainer's own view of a split: the rows of src without a copy (only the labels are
// copied), so the Trainer may cut it (train-samples) without touching the Python object.
Dataset view_of(const Dataset& src, const std::string& name) {
  Dataset v;
  v.name = name;
  v.file = src.file;
  v.label_file = src.label_file;
  v.count = src.count;
  v.channels = src.channels, v.height = src.height, v.width = src.width;
  v.floats = src.floats;
  if (src.count > 0) {
    if (src.floats) v.xf_view = src.float_row(0);
    else v.x_view = src.row(0);
  }
  v.y = src.y;
  return v;
}

// An empty validation split of train's shape (training without validation).
Dataset empty_like(const Dataset& train) {
  Dataset v = view_of(train, "valid");
  v.count = 0;
  v.y.clear();
  v.x_view = nullptr, v.xf_view = nullptr;
  return v;
}

py::array_t<float> float_array(const std::vector<std::size_t>& dims, const float* data) {
  std::vector<py::ssize_t> shape(dims.begin(), dims.end());
  py::array_t<float> a(shape);
  std::copy(data, data + a.size(), a.mutable_data());
  return a;
}

py::object json_to_python(const std::string& json) {
  return py::module_::import("json").attr("loads")(json);
}

py::dict stats_dict(const StateStats& s, double seconds) {
  py::dict d;
  d["error"] = error_percent(s);
  d["errors"] = s.errors;
  d["count"] = s.count;
  d["energy"] = mean_energy(s);
  d["cost"] = mean_cost(s);
  d["steps"] = s.count > 0 ? s.free_steps / double(s.count) : 0.0;
  d["seconds"] = seconds;
  return d;
}

[[noreturn]] void os_error(const std::string& msg) {
  PyErr_SetString(PyExc_OSError, msg.c_str());
  throw py::error_already_set();
}

// A data file that is missing or unreadable is an OSError; a file of the wrong content stays
// a ValueError (the loaders' messages say which: "no such file", "cannot open").
template <typename F>
auto reading_files(F&& f) {
  try {
    return f();
  } catch (const InputError& e) {
    const std::string m = e.what();
    if (m.find("no such file") != std::string::npos || m.find("cannot open") != std::string::npos) os_error(m);
    throw;
  }
}

// ---- the trainer --------------------------------------------------------------------------

class PyTrainer {
 public:
  // A fresh run on the given splits (valid may be null: no validation).
  PyTrainer(const Config& cfg, const PyDataPtr& train, const PyDataPtr& valid) : train_src_(train), valid_src_(valid) {
    Config c = cfg;
    make_splits();
    c.facts = array_splits(c, train_, valid_, classes(c));
    c.layer_sizes();  // throws naming the entry that does not fit the data
    ThreadSetup threads(c.threads);
    t_ = std::make_unique<Trainer>(c, train_, valid_);
  }
  // A resumed run: the checkpoint's state with its configuration overridden by cfg.
  PyTrainer(TrainState st, const Config& cfg, const std::string& path, const PyDataPtr& train, const PyDataPtr& valid)
      : train_src_(train), valid_src_(valid) {
    Config c = cfg;
    check_resume_architecture(st, c);
    make_splits();
    const DataFacts facts = array_splits(c, train_, valid_, classes(c));
    check_same_data(st.cfg.facts, facts, "'" + path + "'");
    check_same_normalisation(st.cfg.facts, c.normalize, "'" + path + "'");
    c.facts = st.cfg.facts;
    st.cfg = c;
    ThreadSetup threads(c.threads);
    t_ = std::make_unique<Trainer>(std::move(st), train_, valid_);
  }

  py::object train_epoch() {
    bool finished = false;
    std::optional<EpochStats> stats;
    {
      const ThreadSetup threads(cfg().threads);
      py::gil_scoped_release nogil;
      // Ctrl-C: Python's own handler only sets a flag; it is looked at between minibatches (at
      // most every 50 ms), and the pass stops there with a consistent state.
      auto last = std::chrono::steady_clock::now();
      finished = t_->train_pass([&](const Trainer&) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::milliseconds(50)) return Next::Continue;
        last = now;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) {
          return Next::Stop;
        }
        return Next::Continue;
      });
      if (finished) stats = t_->finish_epoch();
    }
    if (!finished) throw py::error_already_set();  // the KeyboardInterrupt (or the handler's own exception)
    const int phases = cfg().nudging == Nudging::Symmetric ? 2 : 1;
    return json_to_python(epoch_json(*stats, train_.count, phases));
  }

  // Up to n minibatches of the current epoch (starting it if needed), stopping early where the
  // pass ends; one dict per minibatch. Ctrl-C as train_epoch(): the minibatches trained stay.
  py::list train_minibatches(int n) {
    if (n < 1) throw py::value_error("n: expected a count >= 1, found " + std::to_string(n));
    std::vector<MinibatchRecord> done;
    std::vector<std::vector<std::int32_t>> examples;
    bool interrupted = false;
    {
      const ThreadSetup threads(cfg().threads);
      py::gil_scoped_release nogil;
      auto last = std::chrono::steady_clock::now();
      t_->train_pass([&](const Trainer& t) {
        const MinibatchRecord& r = *t.last_minibatch();
        done.push_back(r);
        const std::int32_t* first = t.state().order.data() + r.position;
        examples.emplace_back(first, first + t.state().cfg.batch);
        if (static_cast<int>(done.size()) >= n) return Next::Stop;
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::milliseconds(50)) return Next::Continue;
        last = now;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) {
          interrupted = true;
          return Next::Stop;
        }
        return Next::Continue;
      });
    }
    if (interrupted) throw py::error_already_set();
    const int phases = cfg().nudging == Nudging::Symmetric ? 2 : 1;
    py::list out;
    for (std::size_t i = 0; i < done.size(); ++i) {
      const StateStats& s = done[i].free;
      py::dict d = stats_dict(s, 0.0);
      d.attr("pop")("seconds");
      d["position"] = done[i].position;
      d["beta"] = done[i].beta;
      d["nudged_steps"] = s.count > 0 ? s.nudged_steps / double(s.count * phases) : 0.0;
      d["examples"] = py::array_t<std::int32_t>(py::ssize_t(examples[i].size()), examples[i].data());
      d["active"] = py::array_t<double>(py::ssize_t(s.active.size()), s.active.data());
      out.append(d);
    }
    return out;
  }

  // The persistent particles of the given examples of a split, as arrays [N x shape_k] per
  // layer 1..L (rows: example indices of that split, checked).
  py::list particles(const std::string& split, const std::vector<std::int64_t>& rows) const {
    if (split != "train" && split != "valid") throw py::value_error("split: expected 'train' or 'valid', found '" + split + "'");
    if (!cfg().persistent_particles) {
      throw py::value_error("particles: this run keeps none (persistent-particles = false: every free phase starts from zero)");
    }
    const TrainState& st = t_->state();
    const Particles& p = split == "train" ? st.train_particles : st.valid_particles;
    for (const std::int64_t r : rows) {
      if (r < 0 || r >= p.capacity) {
        throw py::index_error("rows: example " + std::to_string(r) + " is outside the " + split + " split's 0.." +
                              std::to_string(p.capacity - 1));
      }
    }
    py::list states;
    const Network& net = t_->network();
    const int L_dyn = net.softmax_readout ? net.layers() - 1 : net.layers();
    for (int k = 1; k <= L_dyn; ++k) {
      const Shape sh = net.shape(k);
      std::vector<py::ssize_t> dims = {py::ssize_t(rows.size())};
      if (!net.conv(k)) dims.push_back(net.sizes[k]);
      else dims.insert(dims.end(), {sh.c, sh.h, sh.w});
      py::array_t<float> a(dims);
      const std::size_t n = std::size_t(net.sizes[k]);  // all units of the layer (C x H x W for conv)
      float* dst = a.mutable_data();
      for (std::size_t i = 0; i < rows.size(); ++i) std::copy_n(p.row(k, int(rows[i])), n, dst + i * n);
      states.append(a);
    }
    return states;
  }

  // data: a split (the Trainer's own validation split with particles = true relaxes from its
  // persistent particles, as the CLI's eval --split valid).
  py::dict evaluate(const PyDataPtr& data, int steps, bool from_particles) {
    const Config& c = cfg();
    const Dataset* d = nullptr;
    Dataset v;
    Particles particles;
    if (from_particles) {
      if (data.get() != valid_src_.get() || !c.persistent_particles)
        throw py::value_error("from_zero=False relaxes from the validation split's persistent particles: it needs "
                              "the trainer's own validation split and persistent-particles = true");
      d = &valid_;
      particles = t_->state().valid_particles;  // a copy: evaluating does not move the run's particles
    } else {
      v = view_of(data->d, "evaluated");
      check_array_split(c.facts, v);
      d = &v;
    }
    const int n = steps > 0 ? steps : from_particles ? c.n_free : c.test_steps;
    StateStats s;
    const auto t0 = std::chrono::steady_clock::now();
    {
      const ThreadSetup threads(c.threads);
      py::gil_scoped_release nogil;
      s = t_->evaluate(*d, n, from_particles ? &particles : nullptr);
    }
    return stats_dict(s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  // The states of every layer (1..L) as arrays [N x shape_k].
  py::list relax(const PyDataPtr& data, float beta, int steps, int nudged_steps) {
    const Config& c = cfg();
    Dataset v = view_of(data->d, "relaxed");
    check_array_split(c.facts, v);
    if (!std::isfinite(beta)) throw py::value_error("beta: expected a finite number");
    Particles out;
    {
      const ThreadSetup threads(c.threads);
      py::gil_scoped_release nogil;
      t_->relax_states(v, steps > 0 ? steps : c.test_steps, beta, nudged_steps > 0 ? nudged_steps : c.n_nudged, out);
    }
    py::list states;
    const Network& net = t_->network();
    for (int k = 1; k <= net.layers(); ++k) {
      const Shape s = net.shape(k);
      std::vector<std::size_t> dims = {std::size_t(v.count)};
      if (!net.conv(k)) dims.push_back(std::size_t(net.sizes[k]));
      else dims.insert(dims.end(), {std::size_t(s.c), std::size_t(s.h), std::size_t(s.w)});
      states.append(float_array(dims, out.h[k].data()));
    }
    return states;
  }

  py::list weights() const { return parameters(true); }
  py::list biases() const { return parameters(false); }
  void set_weights(const std::vector<py::array>& a) { set_parameters(a, true); }
  void set_biases(const std::vector<py::array>& a) { set_parameters(a, false); }

  void save(const std::string& path, bool particles) {
    try {
      check_checkpoint_writable(path);
    } catch (const CheckpointError& e) {
      os_error(e.what());
    }
    t_->check_parameters();
    save_checkpoint(path, t_->state(), particles && cfg().saves_particles());
  }

  Config config() const { return cfg(); }
  int epochs_done() const { return t_->state().epochs_done; }
  bool in_epoch() const { return t_->state().in_epoch; }
  int cursor() const { return t_->state().cursor; }
  int threads() const { return cfg().threads; }
  void set_threads(int n) {
    if (n < 1 || n > 4096) throw ConfigError("config key 'threads': expected 1-4096, found " + std::to_string(n));
    t_->set_threads(n);
  }
  py::list curves() const {
    py::list l;
    const int phases = cfg().nudging == Nudging::Symmetric ? 2 : 1;
    for (const EpochStats& e : t_->state().curves) l.append(json_to_python(epoch_json(e, train_.count, phases)));
    return l;
  }
  PyDataPtr train_data() const { return train_src_; }
  py::object valid_data() const { return valid_src_ ? py::cast(valid_src_) : py::none(); }

 private:
  const Config& cfg() const { return t_->state().cfg; }
  int classes(const Config& c) const {
    if (c.classes > 0) return c.classes;
    return std::max(train_src_->classes, valid_src_ ? valid_src_->classes : 0);
  }
  void make_splits() {
    train_ = view_of(train_src_->d, "train");
    valid_ = valid_src_ ? view_of(valid_src_->d, "valid") : empty_like(train_);
  }
  py::list parameters(bool weights) const {
    py::list l;
    const Network& net = t_->network();
    for (int k = 1; k <= net.layers(); ++k) {
      if (weights) l.append(float_array(net.weight_dims(k), net.W[k].data()));
      else l.append(float_array({net.b[k].size()}, net.b[k].data()));
    }
    return l;
  }
  void set_parameters(const std::vector<py::array>& arrays, bool weights) {
    Network& net = t_->parameters();
    const char* what = weights ? "weights" : "biases";
    if (int(arrays.size()) != net.layers())
      throw py::value_error(std::string(what) + ": expected " + std::to_string(net.layers()) + " arrays, one per layer, found " +
                            std::to_string(arrays.size()));
    std::vector<std::vector<float>> values(arrays.size());
    for (int k = 1; k <= net.layers(); ++k) {
      const std::vector<std::size_t> dims = weights ? net.weight_dims(k) : std::vector<std::size_t>{net.b[k].size()};
      const py::array& a = arrays[std::size_t(k - 1)];
      const std::string name = std::string(what) + "[" + std::to_string(k - 1) + "]";
      bool same = std::size_t(a.ndim()) == dims.size();
      for (std::size_t i = 0; same && i < dims.size(); ++i) same = std::size_t(a.shape(py::ssize_t(i))) == dims[i];
      if (!same) {
        std::string want, got;
        for (std::size_t i = 0; i < dims.size(); ++i) want += (i ? ", " : "") + std::to_string(dims[i]);
        for (py::ssize_t i = 0; i < a.ndim(); ++i) got += (i ? ", " : "") + std::to_string(a.shape(i));
        throw py::value_error(name + ": shape (" + got + "), expected (" + want + ")");
      }
      auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
      if (!f) throw py::value_error(name + ": not convertible to float32");
      values[std::size_t(k - 1)].assign(f.data(), f.data() + f.size());
      for (float x : values[std::size_t(k - 1)])
        if (!std::isfinite(x)) throw py::value_error(name + ": holds NaN or an infinity");
    }
    // Checked first, then set: a refused list leaves every layer as it was.
    for (int k = 1; k <= net.layers(); ++k) (weights ? net.W[k] : net.b[k]) = std::move(values[std::size_t(k - 1)]);
  }

  PyDataPtr train_src_, valid_src_;  // the Python splits, kept alive: the views below point into them
  Dataset train_, valid_;            // the Trainer's views of them (it borrows these)
  std::unique_ptr<Trainer> t_;
};

// The built-in loaders: the splits the configuration names, as the CLI loads them.
py::tuple load_data(Config cfg) {
  const ThreadSetup threads(cfg.threads);
  Splits s = reading_files([&] { return load_run_data(cfg, ""); });
  const int classes = s.facts.classes;
  py::object test = s.has_test ? py::cast(own_data(std::move(s.test), classes)) : py::none();
  return py::make_tuple(own_data(std::move(s.train), classes), own_data(std::move(s.valid), classes), test);
}

PyTrainer* load_trainer(const std::string& path, const std::vector<std::string>& words, const PyDataPtr* train,
                        const PyDataPtr* valid) {
  CheckpointInfo info;
  TrainState st = reading_files([&] { return load_checkpoint(path, &info); });
  Config cfg = parse_config(words, &st.cfg);
  cfg.resume.clear();
  if (train) return new PyTrainer(std::move(st), cfg, path, *train, valid ? *valid : PyDataPtr());
  // The run's own data files, checked against the run (shape, classes, normalisation).
  Config data_cfg = cfg;
  const ThreadSetup threads(cfg.threads);
  Splits s = reading_files([&] { return load_run_data(data_cfg, path); });
  const int classes = data_cfg.facts.classes;
  auto tr = own_data(std::move(s.train), classes);
  auto va = own_data(std::move(s.valid), classes);
  return new PyTrainer(std::move(st), cfg, path, tr, va);
}

py::array images_of(const PyData& p) {
  const Dataset& d = p.d;
  std::vector<py::ssize_t> shape = {d.count, d.channels, d.height, d.width};
  if (d.floats) {
    py::array_t<float> a(shape);
    if (d.count) std::copy(d.float_row(0), d.float_row(0) + a.size(), a.mutable_data());
    return std::move(a);
  }
  py::array_t<std::uint8_t> a(shape);
  if (d.count) std::copy(d.row(0), d.row(0) + a.size(), a.mutable_data());
  return std::move(a);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "eqprop's engine (see the eqprop package for the documented API)";
  static py::exception<DivergenceError> divergence(m, "DivergenceError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const DivergenceError& e) {
      PyErr_SetString(divergence.ptr(), e.what());
    } catch (const AtomicWriteError& e) {  // a checkpoint write failed midway (full disk): the old file is kept
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });

  m.def("version", [] { return std::string(kVersion); });
  m.def("blas_kernel", &blas_kernel_name, "the OpenBLAS kernels this process uses (their sums round differently)");

  py::class_<Config>(m, "Config")
      .def("dump", &format_config);
  m.def("parse_config", [](const std::vector<std::string>& words) { return parse_config(words, nullptr); });
  m.def("parse_config_over", [](const std::vector<std::string>& words, const Config& base) {
    Config c = parse_config(words, &base);
    return c;
  });

  py::class_<PyData, PyDataPtr>(m, "Data")
      .def_property_readonly("count", [](const PyData& p) { return p.d.count; })
      .def_property_readonly("shape", [](const PyData& p) { return py::make_tuple(p.d.channels, p.d.height, p.d.width); })
      .def_property_readonly("classes", [](const PyData& p) { return p.classes; })
      .def_property_readonly("dtype", [](const PyData& p) { return p.d.floats ? "float32" : "uint8"; })
      .def_property_readonly("zero_copy", [](const PyData& p) { return p.d.x_view != nullptr || p.d.xf_view != nullptr; })
      .def_property_readonly("images", &images_of)
      .def_property_readonly("labels", [](const PyData& p) {
        py::array_t<std::int64_t> a(py::ssize_t(p.d.y.size()));
        std::copy(p.d.y.begin(), p.d.y.end(), a.mutable_data());
        return a;
      });
  m.def("make_data", &make_data, py::arg("images"), py::arg("labels"), py::arg("shape") = py::none(), py::arg("name"));
  m.def("load_data", &load_data);

  py::class_<PyTrainer>(m, "Trainer")
      .def(py::init<const Config&, const PyDataPtr&, const PyDataPtr&>(), py::arg("config"), py::arg("train"),
           py::arg("valid").none(true))
      .def("train_epoch", &PyTrainer::train_epoch)
      .def("train_minibatches", &PyTrainer::train_minibatches)
      .def("particles", &PyTrainer::particles)
      .def("evaluate", &PyTrainer::evaluate)
      .def("relax", &PyTrainer::relax)
      .def("save", &PyTrainer::save)
      .def_property("weights", &PyTrainer::weights, &PyTrainer::set_weights)
      .def_property("biases", &PyTrainer::biases, &PyTrainer::set_biases)
      .def_property("threads", &PyTrainer::threads, &PyTrainer::set_threads)
      .def_property_readonly("config", &PyTrainer::config)
      .def_property_readonly("epochs_done", &PyTrainer::epochs_done)
      .def_property_readonly("in_epoch", &PyTrainer::in_epoch)
      .def_property_readonly("cursor", &PyTrainer::cursor)
      .def_property_readonly("curves", &PyTrainer::curves)
      .def_property_readonly("train", &PyTrainer::train_data)
      .def_property_readonly("valid", &PyTrainer::valid_data);
  m.def(
      "load",
      [](const std::string& path, const std::vector<std::string>& words, const PyDataPtr& train, const PyDataPtr& valid) {
        return load_trainer(path, words, train ? &train : nullptr, valid ? &valid : nullptr);
      },
      py::arg("path"), py::arg("words"), py::arg("train").none(true), py::arg("valid").none(true),
      py::return_value_policy::take_ownership);
}
