// The `export` command: a checkpoint's weights, biases and (optionally) particles as .npz.
#include <ostream>

#include "eqprop/error.hpp"
#include "eqprop/io/checkpoint.hpp"
#include "eqprop/io/npz.hpp"
#include "eqprop/app/commands.hpp"

namespace eqprop {

int run_export(const Words& args, std::ostream& out, std::ostream&, const Runtime&) {
  const FileArgs a = parse_file_args(args, Command::Export);
  if (a.help) return out << help_text(Command::Export), 0;
  CheckpointInfo info;
  const TrainState st = load_checkpoint(a.checkpoint, &info);
  if (a.particles && !info.has_particles)
    throw InputError("--particles: checkpoint '" + a.checkpoint + "' is model-only (saved without particles)");
  std::vector<NpyArray> arrays;
  for (int k = 1; k <= st.net.layers(); ++k)
    arrays.push_back({"W" + std::to_string(k), st.net.weight_dims(k), st.net.W[k]});
  for (int k = 0; k <= st.net.layers(); ++k)
    arrays.push_back({"b" + std::to_string(k), {st.net.b[k].size()}, st.net.b[k]});
  if (a.particles) {
    for (const auto& [name, p] : {std::pair{"train_h", &st.train_particles}, std::pair{"valid_h", &st.valid_particles}})
      for (int k = 1; k <= st.net.layers(); ++k)
        arrays.push_back({name + std::to_string(k), {std::size_t(p->capacity), std::size_t(st.net.sizes[k])}, p->h[k]});
  }
  write_npz(a.npz, arrays);
  out << "wrote " << arrays.size() << " arrays (W1..W" << st.net.layers() << ", b0..b" << st.net.layers()
      << (a.particles ? ", train_h1.., valid_h1.." : "") << ") to " << a.npz << "\n";
  return 0;
}

}  // namespace eqprop
