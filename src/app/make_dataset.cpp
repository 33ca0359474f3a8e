// The `make-dataset` command: MNIST's IDX files rewritten in the other formats eqprop reads, so
// the npz and CIFAR paths are tested and measured on real images without a download.
//   --npz FILE   x_train [60000 x 28 x 28] uint8, y_train int64, x_test, y_test: MNIST as it is
//   --cifar DIR  a CIFAR-10 binary folder: each image padded to 32 x 32 with 2 pixels of
//                background on every side and copied into 3 channels; data_batch_1..5.bin hold
//                the training file's images in order (a fifth each), test_batch.bin t10k's.
#include <filesystem>
#include <fstream>
#include <ostream>

#include "eqprop/error.hpp"
#include "eqprop/io/cifar.hpp"
#include "eqprop/io/sources.hpp"
#include "eqprop/io/npz.hpp"
#include "eqprop/app/commands.hpp"

namespace eqprop {
namespace {

NpyTensor tensor(const std::string& name, std::vector<std::size_t> shape, NpyType type, std::vector<unsigned char> bytes) {
  NpyTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = type;
  t.bytes = std::move(bytes);
  return t;
}

void add_split(std::vector<NpyTensor>& out, const Dataset& s, const std::string& suffix) {
  const std::size_t n = std::size_t(s.count);
  out.push_back(tensor("x_" + suffix, {n, 28, 28}, NpyType::UInt8, s.x));
  std::vector<unsigned char> labels(n * 8, 0);
  for (std::size_t i = 0; i < n; ++i) labels[8 * i] = static_cast<unsigned char>(s.y[i]);  // 0-9 as int64, little-endian
  out.push_back(tensor("y_" + suffix, {n}, NpyType::Int64, std::move(labels)));
}

// Records [first, first + count) of s as CIFAR-10 records into path.
void write_cifar(const std::string& path, const Dataset& s, int first, int count) {
  constexpr int kPad = (kCifarSide - 28) / 2;
  std::string bytes;
  bytes.reserve(std::size_t(count) * (1 + kCifarPixels));
  std::string record(1 + kCifarPixels, '\0');
  for (int i = first; i < first + count; ++i) {
    std::fill(record.begin(), record.end(), '\0');
    record[0] = static_cast<char>(s.y[i]);
    const std::uint8_t* img = s.row(i);
    for (int c = 0; c < kCifarChannels; ++c)
      for (int r = 0; r < 28; ++r)
        for (int col = 0; col < 28; ++col)
          record[1 + std::size_t(c) * kCifarSide * kCifarSide + (r + kPad) * kCifarSide + (col + kPad)] =
              static_cast<char>(img[r * 28 + col]);
    bytes += record;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw InputError("'" + path + "': cannot write");
}

}  // namespace

int run_make_dataset(const Words& args, std::ostream& out, std::ostream&, const Runtime&) {
  const MakeDatasetArgs a = parse_make_dataset_args(args);
  if (a.help) return out << help_text(Command::MakeDataset), 0;
  // MNIST's reader: 28x28 images, as many labels, 0-9, and the t10k pair.
  Config cfg;
  cfg.data = a.data;
  const SourceData src = read_source(cfg);
  const Dataset &train = src.train, &test = *src.test;
  if (!a.npz.empty()) {
    std::vector<NpyTensor> arrays;
    add_split(arrays, train, "train");
    add_split(arrays, test, "test");
    write_npz(a.npz, arrays);
    out << "wrote " << a.npz << ": x_train " << train.count << "x28x28 uint8, y_train, x_test "
        << test.count << "x28x28, y_test\n";
  }
  if (!a.cifar.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.cifar, ec);
    if (ec) throw InputError("folder '" + a.cifar + "': cannot create (" + ec.message() + ")");
    const int per = train.count / 5;
    for (int b = 0; b < 5; ++b) {
      const int first = b * per, count = b == 4 ? train.count - first : per;
      write_cifar(a.cifar + "/data_batch_" + std::to_string(b + 1) + ".bin", train, first, count);
    }
    write_cifar(a.cifar + "/test_batch.bin", test, 0, test.count);
    out << "wrote " << a.cifar << ": data_batch_1..5.bin (" << train.count << " records), test_batch.bin ("
        << test.count << "), 3x32x32, MNIST padded by 2 and copied into 3 channels\n";
  }
  return 0;
}

}  // namespace eqprop
