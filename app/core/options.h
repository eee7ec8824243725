// Start options shared by the GUI and the headless mode. The command line wins over
// the stored settings (core/settings.h).
#pragma once

#include <QHostAddress>
#include <QString>
#include <QStringList>
#include <optional>

namespace td {

struct StartOptions {
    bool headless = false;
    std::optional<quint16> port;
    std::optional<QHostAddress> listen;
    QString dataDir;               // empty: settings / platform default
    QString settingsFile;          // empty: platform QSettings location
    QString modem;                 // --modem PORT[:BAUD] (validated); empty: settings modem/port
    bool modemTrace = false;       // --modem-trace: the AT dialogue on stderr
};

// Parses the command line. Returns -1 to continue starting, or an exit code when the
// program should stop (0 after --help/--version, 2 after a usage error).
int parseStartOptions(const QStringList &arguments, StartOptions *out);

} // namespace td
