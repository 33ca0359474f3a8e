// Files that are replaced whole or not at all: the bytes go to PATH.tmp, are fsynced and
// renamed over PATH, and the folder is fsynced so the rename itself is durable. A crash at any
// moment leaves the old or the new complete file, never a broken one.
#pragma once
#include <stdexcept>
#include <string>

namespace eqprop {

// Writing failed midway (a full disk, say): the previous file at the path is kept and no
// PATH.tmp is left behind. The message names the path and the system error.
struct AtomicWriteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// what: how errors name the file (e.g. "checkpoint 'PATH'").
// kept: what the message says survives a failed write ("the previous checkpoint is kept").
void write_file_atomically(const std::string& path, const std::string& bytes, const std::string& what,
                           const std::string& kept = "the previous checkpoint is kept");
// The error text of a folder or tmp file that cannot be used for path, or "" when
// PATH.tmp can be created (and is removed again).
std::string atomic_write_problem(const std::string& path);
std::string parent_dir(const std::string& path);

}  // namespace eqprop
