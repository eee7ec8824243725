// Headless mode: `trackerdesk --headless` runs the server and the store without a window,
// prints one line per connection, fix and alarm on stdout (problems on stderr) and shuts
// down cleanly on SIGINT/SIGTERM: pending commits are flushed and their acks written.
#pragma once

#include "core/options.h"

namespace td {

int runHeadless(int &argc, char **argv, const StartOptions &options);

// Raises the soft limit of open files to the hard limit (10,000+ tracker connections need
// as many descriptors). Returns the new soft limit, or -1 if it cannot be read.
long raiseFileLimit();

} // namespace td
