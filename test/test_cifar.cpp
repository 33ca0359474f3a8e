// The CIFAR binary reader: records of both kinds read back, CIFAR-100's two labels, batches
// appended in order, and every malformed file refused naming the file and the problem.
#include <doctest/doctest.h>

#include <string>

#include "eqprop/error.hpp"
#include "eqprop/io/cifar.hpp"
#include "helpers.hpp"

namespace {

// `count` records; record i's label bytes are labels(i), its pixel p is (i + 3 p) mod 256.
template <typename Labels>
std::string records(int count, int label_bytes, Labels labels) {
  std::string s;
  for (int i = 0; i < count; ++i) {
    const std::string l = labels(i);
    REQUIRE(int(l.size()) == label_bytes);
    s += l;
    for (int p = 0; p < eqprop::kCifarPixels; ++p) s.push_back(static_cast<char>((i + 3 * p) % 256));
  }
  return s;
}

}  // namespace

TEST_CASE("CIFAR-10 and CIFAR-100 records read back: pixels channel-major, the chosen label") {
  test::TempDir dir;
  test::write_file(dir.file("b1.bin"), records(3, 1, [](int i) { return std::string(1, char(i * 3)); }));
  test::write_file(dir.file("b2.bin"), records(2, 1, [](int i) { return std::string(1, char(9 - i)); }));
  const auto c10 = eqprop::read_cifar_files({dir.file("b1.bin"), dir.file("b2.bin")}, eqprop::CifarLabel::Cifar10);
  REQUIRE(c10.count == 5);
  CHECK(c10.labels == std::vector<std::uint8_t>{0, 3, 6, 9, 8});
  REQUIRE(c10.pixels.size() == 5u * 3072);
  CHECK(c10.pixels[1024] == std::uint8_t(3 * 1024 % 256));            // record 0, green, first pixel
  CHECK(c10.pixels[3 * 3072 + 5] == std::uint8_t((0 + 3 * 5) % 256));  // record 0 of b2 comes fourth
  test::write_file(dir.file("train.bin"),
                   records(4, 2, [](int i) { return std::string{char(19 - i), char(99 - 7 * i)}; }));
  const auto coarse = eqprop::read_cifar_file(dir.file("train.bin"), eqprop::CifarLabel::Cifar100Coarse);
  const auto fine = eqprop::read_cifar_file(dir.file("train.bin"), eqprop::CifarLabel::Cifar100Fine);
  CHECK(coarse.labels == std::vector<std::uint8_t>{19, 18, 17, 16});
  CHECK(fine.labels == std::vector<std::uint8_t>{99, 92, 85, 78});
  CHECK(fine.pixels == coarse.pixels);
}

TEST_CASE("malformed CIFAR files are refused naming the file and the problem") {
  test::TempDir dir;
  auto refused = [&](const std::string& bytes, eqprop::CifarLabel kind, const std::string& part) {
    test::write_file(dir.file("bad.bin"), bytes);
    CAPTURE(part);
    CHECK_THROWS_WITH_AS(eqprop::read_cifar_file(dir.file("bad.bin"), kind), doctest::Contains(part.c_str()),
                         eqprop::DataError);
  };
  const std::string good = records(2, 1, [](int) { return std::string(1, '\4'); });
  refused(good.substr(0, good.size() - 1), eqprop::CifarLabel::Cifar10, "not a whole number of 3073-byte records");
  refused(good, eqprop::CifarLabel::Cifar100Fine, "not a whole number of 3074-byte records");
  refused("", eqprop::CifarLabel::Cifar10, "empty file");
  refused(records(3, 1, [](int i) { return std::string(1, char(i == 2 ? 10 : 1)); }), eqprop::CifarLabel::Cifar10,
          "label 10 of record 2 is outside 0-9");
  refused(records(1, 2, [](int) { return std::string{char(20), char(5)}; }), eqprop::CifarLabel::Cifar100Coarse,
          "label 20 of record 0 is outside 0-19");
  CHECK_THROWS_WITH_AS(eqprop::read_cifar_file(dir.file("none.bin"), eqprop::CifarLabel::Cifar10),
                       doctest::Contains("no such file"), eqprop::DataError);
  CHECK_THROWS_WITH_AS(eqprop::read_cifar_file(dir.path().string(), eqprop::CifarLabel::Cifar10),
                       doctest::Contains("not a regular file"), eqprop::DataError);
}
