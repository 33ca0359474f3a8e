// The shape of the MNIST-style data sets (MNIST, Fashion-MNIST) and the paper's split of their
// training file, written once: the configuration checks, the loader and the memory estimate
// read them from here.
#pragma once

namespace eqprop {

constexpr int kImageSide = 28;                           // pixels per row and per column
constexpr int kInputs = kImageSide * kImageSide;         // 784 input units
constexpr int kOutputs = 10;                             // classes, the output units
constexpr int kTrainFileCount = 60000;                   // images in the training file
constexpr int kTrainSplit = 50000;                       // the paper's training split: its first rows
constexpr int kValidSplit = kTrainFileCount - kTrainSplit;  // the rest: the validation split
constexpr int kTestFileCount = 10000;                    // images in the t10k file

}  // namespace eqprop
