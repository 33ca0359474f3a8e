#include "eqprop/io/cifar.hpp"

#include <filesystem>
#include <fstream>

#include "eqprop/error.hpp"

namespace eqprop {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError("data file '" + path + "': " + what);
}

constexpr std::uint64_t kMaxFileBytes = std::uint64_t(16) << 30;

}  // namespace

int cifar_record_bytes(CifarLabel kind) { return (kind == CifarLabel::Cifar10 ? 1 : 2) + kCifarPixels; }

int cifar_classes(CifarLabel kind) {
  return kind == CifarLabel::Cifar10 ? 10 : kind == CifarLabel::Cifar100Coarse ? 20 : 100;
}

CifarImages read_cifar_file(const std::string& path, CifarLabel kind) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) fail(path, "no such file");
  if (!fs::is_regular_file(st)) fail(path, "not a regular file");
  const std::uint64_t size = fs::file_size(path, ec);
  const int record = cifar_record_bytes(kind);
  if (ec || size == 0) fail(path, "empty file");
  if (size > kMaxFileBytes) fail(path, "larger than 16 GiB");
  if (size % record != 0) {
    fail(path, std::to_string(size) + " bytes is not a whole number of " + std::to_string(record) +
                   "-byte records (" + (kind == CifarLabel::Cifar10 ? "CIFAR-10" : "CIFAR-100") + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  CifarImages out;
  out.count = static_cast<int>(size / record);
  out.pixels.resize(std::size_t(out.count) * kCifarPixels);
  out.labels.resize(std::size_t(out.count));
  const int label_at = kind == CifarLabel::Cifar100Fine ? 1 : 0, labels = record - kCifarPixels;
  const int classes = cifar_classes(kind);
  unsigned char head[2];
  for (int i = 0; i < out.count; ++i) {
    in.read(reinterpret_cast<char*>(head), labels);
    in.read(reinterpret_cast<char*>(out.pixels.data() + std::size_t(i) * kCifarPixels), kCifarPixels);
    if (!in) fail(path, "read error at record " + std::to_string(i));
    if (head[label_at] >= classes) {
      fail(path, "label " + std::to_string(head[label_at]) + " of record " + std::to_string(i) + " is outside 0-" +
                     std::to_string(classes - 1));
    }
    out.labels[i] = head[label_at];
  }
  return out;
}

CifarImages read_cifar_files(const std::vector<std::string>& paths, CifarLabel kind) {
  CifarImages all;
  for (const auto& p : paths) {
    CifarImages part = read_cifar_file(p, kind);
    all.count += part.count;
    all.pixels.insert(all.pixels.end(), part.pixels.begin(), part.pixels.end());
    all.labels.insert(all.labels.end(), part.labels.begin(), part.labels.end());
  }
  return all;
}

}  // namespace eqprop
