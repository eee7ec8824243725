// Headless mode: `trackerdesk --headless` runs the server and the store without a window,
// prints one line per connection, fix and alarm on stdout (problems on stderr) and shuts
// down cleanly on SIGINT/SIGTERM: pending commits are flushed and their acks written.
#pragma once

#include "core/options.h"

#include <QByteArray>

namespace td::proto {
struct Position;
}

namespace td {

int runHeadless(int &argc, char **argv, const StartOptions &options);

// Raises the soft limit of open files to the hard limit (10,000+ tracker connections need
// as many descriptors). Returns the new soft limit, or -1 if it cannot be read.
long raiseFileLimit();

// A fix as the headless log shows it, appended to `out`: "2026-11-22T19:45:20Z
// 52.090700,5.121400 3.0 km/h 90° sats 7 gps" (time UTC, coordinates with 6 decimals, speed
// with 1, course with none, "(not valid)" after an invalid fix). Written digit by digit:
// thousands of lines a second under load, where printf's number formatting was a tenth
// of the network thread's time.
void appendFixText(QByteArray &out, const proto::Position &p);

} // namespace td
