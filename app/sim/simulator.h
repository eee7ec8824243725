// The tracker simulator: plays one or many GT06 / Topin / JT/T 808 trackers against a
// server from one thread (one TCP connection per device: on Linux raw sockets in one epoll
// instance, else or on request one QTcpSocket each; see transport.h). Each device logs in (JT/T 808:
// registers once, then authenticates), sends fixes at its rate, heartbeats, alarms on
// request, and checks every acknowledgement -- the exact bytes (GT06: the encoder's ack
// for that type and serial; Topin: the time echo; JT/T 808: a valid 0x8001/0x8100 for
// that serial and message id with result 0) and the time it took. Like a real device it
// keeps what was not acknowledged and sends it again after reconnecting.
#pragma once

#include "sim/route.h"
#include "sim/transport.h"

#include "trackerdesk/protocol/jt808.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <deque>
#include <memory>
#include <vector>

namespace td::sim {

enum class SimProtocol { Gt06, Topin, Jt808 };
QString simProtocolName(SimProtocol p);
std::optional<SimProtocol> simProtocolFromName(const QString &name);

// How the devices' connections are driven (transport.h): `epoll` (Linux only, the default
// there) or `qt` (one QTcpSocket per device, everywhere).
enum class SimTransport { Qt, Epoll };
QString simTransportName(SimTransport t);
std::optional<SimTransport> simTransportFromName(const QString &name);
bool simTransportAvailable(SimTransport t);
constexpr SimTransport defaultSimTransport() {
#ifdef Q_OS_LINUX
    return SimTransport::Epoll;
#else
    return SimTransport::Qt;
#endif
}

struct DeviceSpec {
    QString id;                       // IMEI (GT06/Topin) or terminal phone number (JT/T 808)
    QString name;                     // for printing only
    SimProtocol protocol = SimProtocol::Gt06;
    std::shared_ptr<const Route> route;
    double rate = 1.0;                // fixes per second; 0: no fixes (idle, heartbeats only)
    qint64 count = -1;                // fixes to send, -1: until the duration ends / stop()
    int heartbeatSec = 180;           // 0: none
    int wifiEvery = 0;                // Topin: every n-th fix as a Wi-Fi/LBS frame (0x69)
    int batteryPercent = 80;
};

struct SimOptions {
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 5023;
    int window = 16;                  // unacknowledged fixes in flight per device
    int ackTimeoutMs = 10000;         // no ack for this long: reconnect and resend
    double durationSec = 0;           // > 0: stop generating fixes after this long
    int drainTimeoutMs = 20000;       // after generating: wait this long for the last acks
    int connectRate = 1000;           // new connections per second (ramp-up)
    bool realTime = false;            // fix time = wall clock (demo); else start + n * interval
    QDateTime startTime;              // synthetic time of fix 0 (default: now - count intervals)
    bool recordAcked = false;         // keep every acknowledged fix (tests)
    int reconnectDelayMs = 300;
    // Not available here (epoll off Linux) or failing to start: the Qt transport, with a
    // line in SimStats::problems.
    SimTransport transport = defaultSimTransport();
    // Before the event loop waits, pause this long so that more sockets are ready per
    // wake-up. For the Qt transport: Qt's dispatcher poll()s every socket at each wake-up,
    // which with thousands of them costs more than the traffic (the epoll transport has no
    // such cost and needs no pause). Adds at most this much to the measured latency. 0: off.
    int coalesceUs = 0;
    // A device starts recording fixes at its first login (a device that just booted has
    // no backlog). Off: from start(), so devices that cannot connect pile fixes up.
    bool startAtLogin = false;
};

struct SimStats {
    int devices = 0;
    QString transport;                // "epoll" or "qt", once started
    int online = 0;                   // devices logged in right now
    qint64 connects = 0;              // successful TCP connections
    qint64 reconnects = 0;            // connections after the first one of a device
    qint64 connectFailures = 0;
    qint64 logins = 0;                // login acks received
    qint64 fixesGenerated = 0;
    qint64 fixesSent = 0;             // first transmissions
    qint64 fixesResent = 0;           // transmissions of fixes sent before and not acked
    qint64 fixesAcked = 0;
    qint64 fixesUnacked = 0;          // generated and never acknowledged (at the end)
    qint64 alarmsSent = 0;
    qint64 alarmsAcked = 0;
    qint64 heartbeatsSent = 0;
    qint64 heartbeatsAcked = 0;
    qint64 commandsReceived = 0;      // server commands answered
    qint64 badAcks = 0;               // wrong bytes / checksum / result
    qint64 unexpectedAcks = 0;        // an ack for nothing sent
    qint64 lateAcks = 0;              // an ack after the timeout
    qint64 bytesSent = 0;
    qint64 bytesReceived = 0;
    double elapsedSec = 0;
    double latencyP50Ms = 0, latencyP90Ms = 0, latencyP99Ms = 0, latencyMaxMs = 0;
    qint64 latencySamples = 0;
    QStringList problems;             // the first few problems, as text
    QString summary() const;          // multi-line human-readable summary
};

struct AckedFix {
    QString deviceId;
    proto::Position position;         // as sent
    bool alarm = false;
};

class Simulator : public QObject, private TransportClient {
    Q_OBJECT
public:
    explicit Simulator(const SimOptions &options, QObject *parent = nullptr);
    ~Simulator() override;

    void addDevice(const DeviceSpec &spec);
    int deviceCount() const { return int(m_devices.size()); }
    void start();
    // Stops generating fixes; finished() follows once everything is acked or the drain
    // timeout passed.
    void stopGenerating();
    // Stops at once: closes every socket.
    void stop();
    // Server address for the next connections (a restarted server on another port).
    void setServer(const QString &host, quint16 port);
    // Sends an alarm ("sos", ...) with the current position from one device (-1: all).
    QString raiseAlarm(const QString &alarm, int deviceIndex = -1);
    // Why a tracker of `protocol` cannot send the alarm `alarm` (empty: it can).
    static QString alarmProblem(SimProtocol protocol, const QString &alarm);

    SimStats stats() const;
    // Forgets the latency samples so far (benchmarks measure after the ramp-up).
    void clearLatencies() { m_latencies.clear(); }
    bool isFinished() const { return m_finished; }
    QList<AckedFix> ackedFixes() const { return m_acked; }
    // The key the server sees for device i (IMEI, or the terminal id as the JT/T 808 header carries it).
    QString serverKey(int deviceIndex) const;

signals:
    void finished();
    void deviceLoggedIn(int deviceIndex);
    void fixAcked(int deviceIndex, double latencyMs);
    void commandReceived(int deviceIndex, const QString &text);
    // A connection attempt failed (connected = false: "Connection refused", "connect
    // timeout", ...) or an established connection ended ("closed by the server", "ack
    // timeout"); the device reconnects by itself after a back-off.
    void connectionLost(int deviceIndex, const QString &why, bool connected);

private:
    struct Fix;
    struct Waiting;
    struct Device;

    void tick();
    void connectDevice(Device &d);
    void onDisconnected(Device &d, const QString &why);
    // TransportClient
    void transportConnected(int conn) override;
    void transportData(int conn, const char *data, qsizetype size) override;
    void transportClosed(int conn, const QString &why) override;
    Device *deviceAt(int conn) const;
    void sendLogin(Device &d);
    void sendFixes(Device &d, qint64 nowNs);
    void sendFix(Device &d, Fix &&fix, qint64 nowNs);
    void sendHeartbeat(Device &d, qint64 nowNs);
    void write(Device &d, const QByteArray &bytes);
    void handleGt06(Device &d);
    void handleJt808(Device &d);
    void ackReceived(Device &d, int type, quint64 key, const QByteArray &bytes, const QByteArray &expected);
    void problem(const QString &text);
    Fix makeFix(Device &d, bool alarm, const QString &alarmName);
    qint64 nowNs() const { return m_clock.nsecsElapsed(); }
    void checkFinished();

    SimOptions m_options;
    std::unique_ptr<Transport> m_transport;  // made by start(), on the simulator's thread
    std::vector<std::unique_ptr<Device>> m_devices;
    QTimer m_timer;
    QElapsedTimer m_clock;
    SimStats m_stats;
    std::vector<float> m_latencies;
    QList<AckedFix> m_acked;
    qint64 m_generateUntilNs = -1;
    qint64 m_drainUntilNs = -1;
    qint64 m_connectBudget = 0;
    qint64 m_lastTickNs = 0;
    bool m_generating = true;
    bool m_started = false;
    bool m_finished = false;
};

} // namespace td::sim
