// The .npy/.npz reader: files numpy 1.24 wrote (numpy.savez, savez_compressed, a Fortran-order
// and a big-endian array, in test/data), round trips through write_npz, and every lie a header
// can tell, each refused with a message naming the file and the entry.
#include <doctest/doctest.h>

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "eqprop/error.hpp"
#include "eqprop/io/npy.hpp"
#include "eqprop/io/npz.hpp"
#include "helpers.hpp"

namespace {

std::string testdata(const std::string& name) {
  const char* d = std::getenv("EQPROP_TESTDATA");
  return std::string(d ? d : "test/data") + "/" + name;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A .npy file (format 1.0) with this header dict and these data bytes.
std::string npy(const std::string& dict, const std::string& data) {
  std::string h = dict;
  const std::size_t unpadded = 10 + h.size() + 1;
  h.append((64 - unpadded % 64) % 64, ' ');
  h.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<char>(h.size() & 0xff));
  out.push_back(static_cast<char>(h.size() >> 8));
  return out + h + data;
}

void put(std::string& s, std::uint64_t v, int bytes) {  // bytes <= 8
  REQUIRE(bytes <= 8);
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A zip of one entry `name` holding body, stored or deflated, with the sizes given (or true).
std::string zip_one(const std::string& name, const std::string& body, bool packed, long claim_size = -1) {
  std::string data = body;
  if (packed) {
    z_stream s{};
    deflateInit2(&s, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&s, body.size()), '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    s.avail_in = static_cast<uInt>(body.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    deflate(&s, Z_FINISH);
    out.resize(out.size() - s.avail_out);
    deflateEnd(&s);
    data = out;
  }
  std::string z;
  put(z, 0x04034b50, 4); put(z, 20, 2); put(z, 0, 2); put(z, packed ? 8 : 0, 2); put(z, 0, 4);
  put(z, 0, 4);  // crc (not checked by the reader: the .npy header and sizes are)
  put(z, data.size(), 4); put(z, claim_size >= 0 ? std::uint64_t(claim_size) : body.size(), 4);
  put(z, name.size(), 2); put(z, 0, 2);
  z += name + data;
  put(z, 0x06054b50, 4);
  z.append(18, '\0');  // the rest of the end-of-directory record
  return z;
}

const std::string kF4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";

std::string floats(int n) { return std::string(std::size_t(n) * 4, '\0'); }

void refused(const std::string& bytes, const std::string& part) {
  CAPTURE(part);
  try {
    eqprop::parse_npz(bytes, "x.npz");
    FAIL("accepted");
  } catch (const eqprop::DataError& e) {
    const std::string m = e.what();
    CAPTURE(m);
    CHECK(m.find("npz file 'x.npz'") != std::string::npos);
    CHECK(m.find(part) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("npz files numpy wrote, stored and compressed, read back to their values") {
  for (const char* file : {"numpy_savez.npz", "numpy_savez_compressed.npz"}) {
    CAPTURE(file);
    const auto arrays = eqprop::read_npz_file(testdata(file));
    REQUIRE(arrays.size() == 3);
    const auto& x = arrays[0];
    CHECK(x.name == "x_train");
    CHECK(x.type == eqprop::NpyType::UInt8);
    CHECK(x.shape == std::vector<std::size_t>{2, 3, 4});
    for (std::size_t i = 0; i < x.count(); ++i) CHECK(x.integer(i) == std::int64_t(i * 7 % 256));
    const auto& y = arrays[1];
    CHECK(y.name == "y_train");
    CHECK(y.type == eqprop::NpyType::Int64);
    CHECK(y.shape == std::vector<std::size_t>{2});
    CHECK(y.integer(0) == 3);
    CHECK(y.integer(1) == 0);
    const auto& f = arrays[2];
    CHECK(f.type == eqprop::NpyType::Float32);
    CHECK(f.shape == std::vector<std::size_t>{3, 2});
    for (std::size_t i = 0; i < 6; ++i) CHECK(f.real(i) == double(i) / 4 - 0.5);
  }
}

TEST_CASE("Fortran-order and big-endian arrays are refused with the reason") {
  CHECK_THROWS_WITH_AS(eqprop::parse_npy(read_bytes(testdata("numpy_fortran.npy")), "a.npy"),
                       doctest::Contains("Fortran-order"), eqprop::DataError);
  CHECK_THROWS_WITH_AS(eqprop::parse_npy(read_bytes(testdata("numpy_bigendian.npy")), "a.npy"),
                       doctest::Contains("big-endian"), eqprop::DataError);
}

TEST_CASE("write_npz's archives read back through the general reader, and read_npz wants float32") {
  test::TempDir dir;
  eqprop::write_npz(dir.file("w.npz"), {{"W1", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b0", {0}, {}}});
  const auto back = eqprop::read_npz_file(dir.file("w.npz"));
  REQUIRE(back.size() == 2);
  CHECK(back[0].shape == std::vector<std::size_t>{2, 3});
  CHECK(back[0].real(5) == 6.0);
  CHECK(back[1].count() == 0);
  CHECK_THROWS_WITH_AS(eqprop::read_npz(testdata("numpy_savez.npz")), doctest::Contains("uint8, not float32"),
                       eqprop::InputError);
}

TEST_CASE("write_npz replaces an archive whole, leaves no temporary file, and refuses a folder it cannot write") {
  test::TempDir dir;
  const std::string path = dir.file("w.npz");
  eqprop::write_npz(path, {{"W1", {1, 2}, {1, 2}}});
  eqprop::write_npz(path, {{"W1", {1, 3}, {7, 8, 9}}});
  CHECK(eqprop::read_npz_file(path)[0].real(2) == 9.0);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  CHECK_THROWS_WITH_AS(eqprop::write_npz(dir.file("missing/w.npz"), {{"W1", {1}, {1}}}), doctest::Contains("missing/w.npz"),
                       eqprop::InputError);
  CHECK(eqprop::read_npz_file(path)[0].count() == 3);
}

TEST_CASE("well-formed variants: format 2.0 headers, scalars, empty arrays, deflated entries") {
  std::string v2 = npy(kF4, floats(6));
  // Format 2.0: a 4-byte header length.
  const std::string dict = v2.substr(10, v2.size() - 10 - 24);
  std::string two = "\x93NUMPY";
  two.push_back(2), two.push_back(0);
  put(two, dict.size(), 4);
  two += dict + floats(6);
  CHECK(eqprop::parse_npy(two, "v2").count() == 6);
  CHECK(eqprop::parse_npy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", std::string(8, '\1')), "s")
            .count() == 1);
  CHECK(eqprop::parse_npy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (0, 5), }", ""), "e").count() == 0);
  const auto d = eqprop::parse_npz(zip_one("a.npy", npy(kF4, floats(6)), true), "d.npz");
  CHECK(d.at(0).name == "a");
}

TEST_CASE("every lie a header can tell is refused, naming the file and the entry") {
  refused(zip_one("a.npy", npy(kF4, floats(5)), false), "needs 24 data bytes, the array holds 20");
  refused(zip_one("a.npy", npy(kF4, floats(7)), false), "needs 24 data bytes, the array holds 28");
  refused(zip_one("a.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (3, 2), }", floats(6)), false),
          "element type '|O' is not supported");
  refused(zip_one("a.npy", npy("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", floats(2)), false),
          "element type '<u8' is not supported");
  refused(zip_one("a.npy", npy("{'descr': '<f4', 'shape': (3, 2), }", floats(6)), false), "lacks");
  refused(zip_one("a.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), 'x': 1}", floats(6)), false),
          "unexpected key 'x'");
  refused(zip_one("a.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -2), }", floats(6)), false),
          "whole numbers");
  refused(zip_one("a.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999), }", floats(6)), false),
          "overflows");
  refused(zip_one("a.npy", "NOTNUMPY" + floats(6), false), "bad magic");
  refused(zip_one("a.txt", npy(kF4, floats(6)), false), "not a .npy entry");
  refused(zip_one("a.npy", npy(kF4, floats(6)), true, 1 << 30), "impossible for its compressed size");
  refused(zip_one("a.npy", npy(kF4, floats(6)), true, 100), "corrupt or not of its declared size");
  std::string truncated = zip_one("a.npy", npy(kF4, floats(6)), false);
  refused(truncated.substr(0, truncated.size() - 40), "truncated");
  refused("PK\x05\x06" + std::string(18, '\0'), "no arrays found");
  std::string two = zip_one("a.npy", npy(kF4, floats(6)), false);
  two = two.substr(0, two.size() - 22) + two;  // the same entry twice
  refused(two, "a second array named 'a'");
}
