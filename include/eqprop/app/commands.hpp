// The eqprop commands, each from its words after the command name to an exit code.
// Errors are thrown (main maps them to exit codes); a stopped training run returns
// 128+signal itself after writing its checkpoint.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "eqprop/app/runtime.hpp"

namespace eqprop {

struct Runtime;
using Words = std::vector<std::string>;

// Across the processes of `rt` (every rank calls it with the same words); only rank 0 writes
// to out and err.
int run_train(const Words& args, std::ostream& out, std::ostream& err, const Runtime& rt);
int run_bench_command(const Words& args, std::ostream& out);
int run_eval(const Words& args, std::ostream& out);
int run_info(const Words& args, std::ostream& out);
int run_export(const Words& args, std::ostream& out);

}  // namespace eqprop
