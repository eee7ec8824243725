// Settings of the tracker server: where it listens and how it defends itself against
// broken and hostile peers. Read from AppSettings (server/...) by serverConfigFromSettings.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>

namespace td {
class AppSettings;
}

namespace td::server {

struct ListenSpec {
    QHostAddress address = QHostAddress::Any;
    quint16 port = 5023;          // 0: any free port (tests)
    QString protocol;             // empty: sniffed from the first bytes; else a protocol id
};

struct ServerConfig {
    QList<ListenSpec> listeners = {ListenSpec{}};
    int idleTimeoutSec = 600;         // close a connection after this long without a frame
    int maxConnections = 5000;        // all peers together
    int maxConnectionsPerIp = 500;    // trackers behind one carrier NAT share an address
    int garbageBudgetBytes = 8192;    // undecodable bytes per connection before it is closed
    int maxPendingWriteBytes = 256 * 1024;  // a peer that does not read its acks is closed
    int maxHeldFrames = 16;           // frames kept while waiting for a login
    bool acceptUnknownDevices = true; // false: only devices in the device list (allowlist)
    bool strictChecksum = false;      // drop frames with a bad CRC/XOR instead of warning
};

// Reads the server settings; problems (bad values) are appended to *problems.
// Keys: server/port, server/listen, server/extraPorts ("5024=jt808, 5025=gt06"),
// server/idleTimeoutSec, server/maxConnections, server/maxConnectionsPerIp,
// server/garbageBudgetBytes, server/acceptUnknownDevices, server/strictChecksum.
ServerConfig serverConfigFromSettings(AppSettings &settings, QStringList *problems);

} // namespace td::server
