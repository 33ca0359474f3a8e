#include "eqprop/architecture.hpp"

#include <limits>
#include <sstream>

#include "eqprop/error.hpp"

namespace eqprop {
namespace {

[[noreturn]] void bad(const std::string& entry, const std::string& why) {
  throw ConfigError("config key 'layers': entry '" + entry + "': " + why +
                    " (entries: conv:C:K[:pP][:pool2] then dense:N, e.g. \"conv:32:5:pool2 conv:64:5:pool2 dense:256\")");
}

// A whole number in [lo, hi], or an error naming the entry and the field.
int number(const std::string& entry, const std::string& word, const char* what, int lo, int hi) {
  const bool digits = !word.empty() && word.size() <= 9 && word.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) bad(entry, std::string(what) + " '" + word + "' is not a whole number");
  const int v = std::stoi(word);
  if (v < lo || v > hi)
    bad(entry, std::string(what) + " " + word + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

LayerSpec parse_entry(const std::string& entry) {
  const auto f = split(entry, ':');
  LayerSpec s;
  if (f[0] == "dense") {
    if (f.size() != 2) bad(entry, "a dense entry is dense:N");
    s.size = number(entry, f[1], "units", 1, 1 << 24);
    return s;
  }
  if (f[0] != "conv") bad(entry, "unknown layer kind '" + f[0] + "' (conv or dense)");
  if (f.size() < 3) bad(entry, "a conv entry is conv:C:K[:pP][:pool2]");
  s.type = LayerType::Conv;
  s.size = number(entry, f[1], "channels", 1, 1 << 16);
  s.kernel = number(entry, f[2], "kernel", 1, 64);
  bool padded = false, pooled = false;
  for (std::size_t i = 3; i < f.size(); ++i) {
    if (f[i] == "pool2" && !pooled) {
      s.pool = 2;
      pooled = true;
    } else if (f[i].size() > 1 && f[i][0] == 'p' && f[i] != "pool2" && !padded) {
      s.padding = number(entry, f[i].substr(1), "padding", 0, 63);
      padded = true;
    } else {
      bad(entry, "unknown or repeated option '" + f[i] + "' (pP for padding, pool2)");
    }
  }
  if (s.padding >= s.kernel) bad(entry, "padding " + std::to_string(s.padding) + " must be below the kernel size");
  return s;
}

}  // namespace

std::vector<LayerSpec> parse_layers(const std::string& text) {
  std::istringstream in(text);
  std::vector<LayerSpec> out;
  std::string word;
  bool dense_seen = false;
  while (in >> word) {
    const LayerSpec s = parse_entry(word);
    if (s.type == LayerType::Conv && dense_seen) bad(word, "a conv layer cannot follow a dense layer");
    dense_seen = dense_seen || s.type == LayerType::Dense;
    out.push_back(s);
  }
  if (out.empty()) throw ConfigError("config key 'layers': no entries (e.g. \"conv:32:5:pool2 dense:256\")");
  return out;
}

std::string format_layers(const std::vector<LayerSpec>& layers) {
  std::string out;
  for (const auto& s : layers) {
    if (!out.empty()) out += ' ';
    if (s.type == LayerType::Dense) {
      out += "dense:" + std::to_string(s.size);
      continue;
    }
    out += "conv:" + std::to_string(s.size) + ":" + std::to_string(s.kernel);
    if (s.padding > 0) out += ":p" + std::to_string(s.padding);
    if (s.pool == 2) out += ":pool2";
  }
  return out;
}

std::vector<LayerSpec> dense_layers(const std::vector<int>& hidden) {
  std::vector<LayerSpec> out;
  for (int n : hidden) out.push_back(LayerSpec{LayerType::Dense, n, 0, 0, 1});
  return out;
}

std::vector<Shape> layer_shapes(const std::vector<LayerSpec>& layers, const DataFacts& facts) {
  std::vector<Shape> out{Shape{facts.channels, facts.height, facts.width}};
  for (const auto& s : layers) {
    const Shape& in = out.back();
    const std::string entry = format_layers({s});
    Shape o;
    if (s.type == LayerType::Dense) {
      o = Shape{s.size, 1, 1};
    } else {
      const int h = conv_out(in.h, s), w = conv_out(in.w, s);
      if (h < 1 || w < 1)
        bad(entry, "a " + std::to_string(s.kernel) + "x" + std::to_string(s.kernel) + " kernel does not fit its " +
                       std::to_string(in.h) + "x" + std::to_string(in.w) + " input with padding " +
                       std::to_string(s.padding));
      if (h < s.pool || w < s.pool)
        bad(entry, "the pool leaves nothing of its " + std::to_string(h) + "x" + std::to_string(w) + " convolution");
      o = Shape{s.size, h / s.pool, w / s.pool};
    }
    if (o.size() > std::numeric_limits<int>::max()) bad(entry, "more than 2^31 states per example");
    out.push_back(o);
  }
  out.push_back(Shape{facts.classes, 1, 1});
  return out;
}

}  // namespace eqprop
