#pragma once

#include "core/options.h"

namespace td::ui {
// Creates the QApplication and the main window; returns the exit code.
int runGui(int &argc, char **argv, const StartOptions &options);
}
