#pragma once

// tests/scanner still includes the temporary directory by this name; the helpers
// themselves are tests/support/temp_dir.hpp.
#include "support/temp_dir.hpp"

using attendance::testing::readFile;
using attendance::testing::TempDir;
using attendance::testing::writeFile;
