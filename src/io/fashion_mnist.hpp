// PRIVATE header (not installed): where load_dataset("fashion-mnist") reads its files.
#pragma once

namespace neuncut {

/// Directory holding the Debian package dataset-fashion-mnist's files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace neuncut
