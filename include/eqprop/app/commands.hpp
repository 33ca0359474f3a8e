// The command table: each eqprop command's name, one-line summary, usage line, description and
// entry point, one entry per command (one file each: train.cpp, bench.cpp, eval.cpp,
// predict.cpp, info.cpp, export.cpp). main() dispatches through it and `--help` texts are built from it, so
// a new command is one file and one row.
//
// An entry point takes the words after the command name and returns the exit code. Errors are
// thrown (main maps them to exit codes); a stopped training run returns 128+signal itself after
// writing its checkpoint.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "eqprop/app/cli.hpp"
#include "eqprop/app/runtime.hpp"

namespace eqprop {

using Words = std::vector<std::string>;

struct CommandEntry {
  Command id;
  const char* name;
  const char* summary;  // one line in `eqprop --help`
  const char* usage;    // the first line of `eqprop NAME --help`
  const char* about;    // the paragraph under it
  // Across the processes of rt (train) every rank calls it with the same words and only rank 0
  // writes to out and err; the other commands run as one process.
  int (*run)(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);
  bool across_ranks;
};

const std::vector<CommandEntry>& command_table();
const CommandEntry& command_entry(Command id);
// null: no such command.
const CommandEntry* find_command(const std::string& name);
// `eqprop --help`: the usage line and every command's summary.
std::string program_usage();

int run_train(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);
int run_bench(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);
int run_eval(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);
int run_predict(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);
int run_info(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);
int run_export(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);
int run_make_dataset(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);

}  // namespace eqprop
