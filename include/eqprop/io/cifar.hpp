// CIFAR-10 and CIFAR-100 in their binary versions as distributed: records of label byte(s)
// then 3,072 pixel bytes, channel-major (1,024 red, 1,024 green, 1,024 blue, each 32 x 32 row
// by row). CIFAR-10's data_batch_1..5.bin and test_batch.bin have one label byte (0-9);
// CIFAR-100's train.bin and test.bin have a coarse (0-19) and a fine (0-99) label byte.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eqprop {

enum class CifarLabel { Cifar10, Cifar100Coarse, Cifar100Fine };

constexpr int kCifarChannels = 3, kCifarSide = 32;
constexpr int kCifarPixels = kCifarChannels * kCifarSide * kCifarSide;  // 3,072

struct CifarImages {
  int count = 0;
  std::vector<std::uint8_t> pixels;  // [count x 3 x 32 x 32], channel-major, the bytes as stored
  std::vector<std::uint8_t> labels;  // [count], the chosen label
};

// Bytes per record: 1 + 3,072 (CIFAR-10) or 2 + 3,072 (CIFAR-100).
int cifar_record_bytes(CifarLabel kind);
// Classes of the chosen label: 10, 20 or 100.
int cifar_classes(CifarLabel kind);

// One file. Throws DataError naming the file on a missing or empty file, a size that is not a
// whole number of records, or a label byte outside the label's classes (naming the record).
// The records' count comes from the file's size, never from its contents.
CifarImages read_cifar_file(const std::string& path, CifarLabel kind);
// Several files of one split, appended in order (CIFAR-10's five training batches).
CifarImages read_cifar_files(const std::vector<std::string>& paths, CifarLabel kind);

}  // namespace eqprop
