#include "sim/simulator.h"

#include "trackerdesk/protocol/gt06.h"

#include <QAbstractEventDispatcher>
#include <QThread>
#include <QTimeZone>

#include <algorithm>
#include <cmath>

namespace td::sim {

namespace gt06 = td::proto::gt06;
namespace jt808 = td::proto::jt808;

QString simProtocolName(SimProtocol p) {
    switch (p) {
    case SimProtocol::Gt06: return QStringLiteral("gt06");
    case SimProtocol::Topin: return QStringLiteral("topin");
    case SimProtocol::Jt808: return QStringLiteral("jt808");
    }
    return {};
}

std::optional<SimProtocol> simProtocolFromName(const QString &name) {
    const QString n = name.trimmed().toLower();
    if (n == QLatin1String("gt06")) return SimProtocol::Gt06;
    if (n == QLatin1String("topin")) return SimProtocol::Topin;
    if (n == QLatin1String("jt808")) return SimProtocol::Jt808;
    return std::nullopt;
}

QString simTransportName(SimTransport t) {
    switch (t) {
    case SimTransport::Qt: return QStringLiteral("qt");
    case SimTransport::Epoll: return QStringLiteral("epoll");
    }
    return {};
}

std::optional<SimTransport> simTransportFromName(const QString &name) {
    const QString n = name.trimmed().toLower();
    if (n == QLatin1String("qt")) return SimTransport::Qt;
    if (n == QLatin1String("epoll")) return SimTransport::Epoll;
    return std::nullopt;
}

bool simTransportAvailable(SimTransport t) {
#ifdef Q_OS_LINUX
    Q_UNUSED(t);
    return true;
#else
    return t == SimTransport::Qt;
#endif
}

QString SimStats::summary() const {
    QString s;
    s += QStringLiteral("devices        %1 (%2 online at the end)%3\n").arg(devices).arg(online)
             .arg(transport.isEmpty() ? QString() : QStringLiteral(", transport %1").arg(transport));
    s += QStringLiteral("connections    %1 (%2 reconnects, %3 failed attempts), %4 logins\n").arg(connects).arg(reconnects).arg(connectFailures).arg(logins);
    s += QStringLiteral("fixes          %1 generated, %2 sent, %3 resent, %4 acked, %5 not acked\n")
             .arg(fixesGenerated).arg(fixesSent).arg(fixesResent).arg(fixesAcked).arg(fixesUnacked);
    s += QStringLiteral("alarms         %1 sent, %2 acked\n").arg(alarmsSent).arg(alarmsAcked);
    s += QStringLiteral("heartbeats     %1 sent, %2 acked\n").arg(heartbeatsSent).arg(heartbeatsAcked);
    if (commandsReceived)
        s += QStringLiteral("commands       %1 received and answered\n").arg(commandsReceived);
    s += QStringLiteral("ack checks     %1 bad, %2 unexpected, %3 late\n").arg(badAcks).arg(unexpectedAcks).arg(lateAcks);
    s += QStringLiteral("duration       %1 s, %2 acked fixes/s\n").arg(elapsedSec, 0, 'f', 1)
             .arg(elapsedSec > 0 ? fixesAcked / elapsedSec : 0, 0, 'f', 0);
    s += QStringLiteral("ack latency    p50 %1 ms, p90 %2 ms, p99 %3 ms, max %4 ms (%5 samples)\n")
             .arg(latencyP50Ms, 0, 'f', 2).arg(latencyP90Ms, 0, 'f', 2).arg(latencyP99Ms, 0, 'f', 2)
             .arg(latencyMaxMs, 0, 'f', 2).arg(latencySamples);
    s += QStringLiteral("traffic        %1 bytes sent, %2 bytes received\n").arg(bytesSent).arg(bytesReceived);
    for (const QString &p : problems)
        s += QStringLiteral("problem        %1\n").arg(p);
    return s;
}

struct Simulator::Fix {
    qint64 index = 0;
    proto::Position position;
    bool alarm = false;
    QString alarmName;
    bool wifi = false;
    int transmissions = 0;
};

struct Simulator::Waiting {
    enum Kind { Login, Register, FixAck, Heartbeat };
    Kind kind = FixAck;
    int type = 0;              // message type the ack answers
    quint64 key = 0;           // serial (GT06 / JT/T 808) or time stamp (Topin)
    qint64 sentNs = 0;
    QByteArray expected;       // exact expected ack (GT06, Topin); empty: checked by fields
    bool hasFix = false;
    Fix fix;
};

struct Simulator::Device {
    int index = 0;
    DeviceSpec spec;
    QString key;                        // what the server sees
    jt808::Terminal terminal;
    QByteArray authCode;
    bool registered = false;
    bool open = false;                  // a connection exists (connecting or connected)
    enum State { Idle, Connecting, LoggingIn, Ready } state = Idle;
    QByteArray rx;
    quint16 serial = 0;
    qint64 generated = 0;               // fixes made (time index), alarms included
    qint64 regular = 0;                 // fixes made by the rate (what --count counts)
    bool generationDone = false;
    qint64 nextFixNs = 0;
    qint64 nextHeartbeatNs = 0;
    qint64 reconnectAtNs = 0;
    int failures = 0;
    bool everConnected = false;
    bool everLoggedIn = false;
    QDateTime t0;
    double intervalSec = 1;
    QDateTime lastRealTime;
    std::deque<Fix> outbox;             // generated, waiting to be sent
    std::deque<Waiting> waiting;        // sent, waiting for the ack
    int fixesInFlight = 0;
};

namespace {

quint16 be16(const char *p) { return quint16((quint8(p[0]) << 8) | quint8(p[1])); }

quint64 timeKey(const QByteArray &six) {
    quint64 k = 0;
    for (char c : six)
        k = (k << 8) | quint8(c);
    return k;
}

std::optional<int> gt06AlarmCode(const QString &name) {
    for (int code = 1; code < 256; ++code)
        if (gt06::alarmName(code).compare(name, Qt::CaseInsensitive) == 0)
            return code;
    return std::nullopt;
}

} // namespace

Simulator::Simulator(const SimOptions &options, QObject *parent) : QObject(parent), m_options(options) {
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &Simulator::tick);
}

Simulator::~Simulator() {
    stop();
    m_transport.reset();
}

Simulator::Device *Simulator::deviceAt(int conn) const {
    return conn >= 0 && conn < int(m_devices.size()) ? m_devices[size_t(conn)].get() : nullptr;
}

void Simulator::addDevice(const DeviceSpec &spec) {
    auto d = std::make_unique<Device>();
    d->index = int(m_devices.size());
    d->spec = spec;
    if (!d->spec.route)
        d->spec.route = std::make_shared<Route>(Route::randomWalk(52.09 + 0.01 * (d->index % 50), 5.12 + 0.01 * (d->index / 50 % 50), quint32(d->index + 1)));
    d->key = spec.id;
    if (spec.protocol == SimProtocol::Jt808) {
        QString err;
        const auto t = jt808::terminalFromId(spec.id, spec.id.size() > 12 && spec.id.size() != 15, &err);
        if (t) {
            d->terminal = *t;
            d->key = jt808::terminalIdText(t->id);
        } else {
            problem(QStringLiteral("device %1: %2").arg(spec.id, err));
        }
    }
    d->intervalSec = spec.rate > 0 ? std::max(1.0, 1.0 / spec.rate) : 1.0;
    d->generationDone = spec.count == 0;
    m_devices.push_back(std::move(d));
}

QString Simulator::serverKey(int i) const {
    return i >= 0 && i < int(m_devices.size()) ? m_devices[size_t(i)]->key : QString();
}

void Simulator::setServer(const QString &host, quint16 port) {
    m_options.host = host;
    m_options.port = port;
}

void Simulator::start() {
    if (m_started)
        return;
    m_started = true;
    m_clock.start();
    m_stats.devices = int(m_devices.size());
#ifdef Q_OS_LINUX
    if (m_options.transport == SimTransport::Epoll) {
        QString err;
        m_transport = makeEpollTransport(this, &err);
        if (!m_transport)
            problem(QStringLiteral("epoll transport: %1; using the Qt transport").arg(err));
    }
#else
    if (m_options.transport == SimTransport::Epoll)
        problem(QStringLiteral("the epoll transport is only available on Linux; using the Qt transport"));
#endif
    if (!m_transport)
        m_transport = makeQtTransport(this);
    m_stats.transport = m_transport->name();
    const qint64 now = nowNs();
    const QDateTime wall = QDateTime::currentDateTimeUtc();
    for (auto &dp : m_devices) {
        Device &d = *dp;
        qint64 expected = d.spec.count > 0 ? d.spec.count : qint64(std::ceil(std::max(0.0, m_options.durationSec) * std::max(0.0, d.spec.rate)));
        d.t0 = m_options.startTime.isValid() ? m_options.startTime
                                             : wall.addSecs(-qint64(expected * d.intervalSec) - 60);
        // Spread the first fixes over one interval so devices do not send in lockstep.
        d.nextFixNs = now + (d.spec.rate > 0 ? qint64(1e9 / d.spec.rate * (double(d.index % 97) / 97.0)) : 0);
    }
    if (m_options.durationSec > 0)
        m_generateUntilNs = now + qint64(m_options.durationSec * 1e9);
    m_lastTickNs = now;
    m_connectBudget = 1;
    m_timer.start(5);
    if (m_options.coalesceUs > 0) {
        if (QAbstractEventDispatcher *d = QAbstractEventDispatcher::instance())
            connect(d, &QAbstractEventDispatcher::aboutToBlock, this, [this] {
                if (!m_finished)
                    QThread::usleep(quint64(m_options.coalesceUs));
            });
    }
}

void Simulator::stopGenerating() {
    if (!m_generating)
        return;
    m_generating = false;
    m_drainUntilNs = nowNs() + qint64(m_options.drainTimeoutMs) * 1000000;
}

void Simulator::stop() {
    m_timer.stop();
    for (auto &dp : m_devices) {
        Device &d = *dp;
        if (d.open) {
            d.open = false;
            m_transport->close(d.index);
        }
        if (d.state == Device::Ready)
            --m_stats.online;
        d.state = Device::Idle;
    }
}

void Simulator::problem(const QString &text) {
    if (m_stats.problems.size() < 10)
        m_stats.problems << text;
}

QString Simulator::raiseAlarm(const QString &alarm, int deviceIndex) {
    int raised = 0;
    QString error;
    for (auto &dp : m_devices) {
        Device &d = *dp;
        if (deviceIndex >= 0 && d.index != deviceIndex)
            continue;
        const QString problem = alarmProblem(d.spec.protocol, alarm);
        if (!problem.isEmpty()) {
            error = problem;
            continue;
        }
        d.outbox.push_front(makeFix(d, true, alarm));
        ++raised;
        if (d.state == Device::Ready)
            sendFixes(d, nowNs());
    }
    return raised ? QString() : (error.isEmpty() ? QStringLiteral("no such device") : error);
}

QString Simulator::alarmProblem(SimProtocol protocol, const QString &alarm) {
    switch (protocol) {
    case SimProtocol::Topin:
        return QStringLiteral("Topin devices send no alarm messages");
    case SimProtocol::Gt06: {
        if (gt06AlarmCode(alarm))
            return {};
        QStringList known;
        for (int code = 1; code < 256; ++code) {
            const QString name = gt06::alarmName(code);
            if (!name.isEmpty() && !known.contains(name))
                known << name;
        }
        return QStringLiteral("GT06 has no alarm called '%1' (known: %2)").arg(alarm, known.join(QStringLiteral(", ")));
    }
    case SimProtocol::Jt808: {
        if (jt808::alarmBit(alarm))
            return {};
        QStringList known;
        for (const QString &name : jt808::alarmNames())
            known << name;
        return QStringLiteral("JT/T 808 has no alarm bit called '%1' (known: %2)").arg(alarm, known.join(QStringLiteral(", ")));
    }
    }
    return {};
}

Simulator::Fix Simulator::makeFix(Device &d, bool alarm, const QString &alarmName) {
    Fix f;
    f.index = d.generated++;
    ++m_stats.fixesGenerated;
    QDateTime t;
    if (m_options.realTime) {
        t = QDateTime::currentDateTimeUtc();
        t = QDateTime::fromSecsSinceEpoch(t.toSecsSinceEpoch(), QTimeZone::UTC);
        if (d.lastRealTime.isValid() && t <= d.lastRealTime)
            t = d.lastRealTime.addSecs(1);  // one fix per second at most: distinct times
        d.lastRealTime = t;
    } else {
        t = d.t0.addMSecs(qint64(std::llround(f.index * d.intervalSec)) * 1000);
        t = QDateTime::fromSecsSinceEpoch(t.toSecsSinceEpoch(), QTimeZone::UTC);
    }
    f.position = d.spec.route->fix(f.index, t, d.intervalSec);
    f.position.cells = {proto::CellTower{204, 8, 1000 + d.index % 5000, 10000 + f.index % 97, 60}};
    f.alarm = alarm;
    f.alarmName = alarmName;
    if (!alarm && d.spec.protocol == SimProtocol::Topin && d.spec.wifiEvery > 0 && f.index % d.spec.wifiEvery == d.spec.wifiEvery - 1) {
        f.wifi = true;
        f.position.hasCoordinates = false;
        f.position.source = proto::PositionSource::Wifi;
        for (int i = 0; i < 3; ++i)
            f.position.wifi.append(proto::WifiAccessPoint{QStringLiteral("02:1a:11:%1:%2:%3").arg(d.index % 256, 2, 16, QLatin1Char('0'))
                                                              .arg(i, 2, 16, QLatin1Char('0')).arg(f.index % 256, 2, 16, QLatin1Char('0')),
                                                          -50 - 7 * i});
    }
    return f;
}

void Simulator::tick() {
    const qint64 now = nowNs();
    if (m_generating && m_generateUntilNs > 0 && now >= m_generateUntilNs)
        stopGenerating();
    const qint64 rate = qMax(1, m_options.connectRate);
    m_connectBudget = std::min<qint64>(m_connectBudget + (now - m_lastTickNs) * rate / 1000000000 + 1, rate / 10 + 1);
    m_lastTickNs = now;
    const qint64 ackTimeout = qint64(m_options.ackTimeoutMs) * 1000000;
    bool allGenerated = true;
    for (auto &dp : m_devices) {
        Device &d = *dp;
        // A device records fixes whether it is connected or not.
        while (m_generating && !d.generationDone && d.spec.rate > 0 && now >= d.nextFixNs
               && (d.everLoggedIn || !m_options.startAtLogin)) {
            d.outbox.push_back(makeFix(d, false, QString()));
            ++d.regular;
            d.nextFixNs += qint64(1e9 / d.spec.rate);
            if (d.spec.count > 0 && d.regular >= d.spec.count)
                d.generationDone = true;
        }
        // Idle devices (no rate, no count) keep the run going until the duration or stop().
        if (!d.generationDone)
            allGenerated = false;
        switch (d.state) {
        case Device::Idle: {
            const bool needed = m_generating || !d.outbox.empty();
            if (needed && now >= d.reconnectAtNs && m_connectBudget > 0) {
                --m_connectBudget;
                connectDevice(d);
            }
            break;
        }
        case Device::Connecting:
            if (now - d.reconnectAtNs > ackTimeout)
                onDisconnected(d, QStringLiteral("connect timeout"));
            break;
        case Device::LoggingIn:
        case Device::Ready:
            if (!d.waiting.empty()) {
                const Waiting &w = d.waiting.front();
                if (now - w.sentNs > ackTimeout) {
                    if (w.kind == Waiting::Heartbeat) {
                        d.waiting.pop_front();  // some dialects do not ack heartbeats
                    } else {
                        problem(QStringLiteral("device %1: no ack within %2 ms; reconnecting").arg(d.key).arg(m_options.ackTimeoutMs));
                        onDisconnected(d, QStringLiteral("ack timeout"));
                        break;
                    }
                }
            }
            if (d.state == Device::Ready) {
                sendFixes(d, now);
                if (d.spec.heartbeatSec > 0 && now >= d.nextHeartbeatNs)
                    sendHeartbeat(d, now);
            }
            break;
        }
    }
    if (m_generating && allGenerated && !m_devices.empty())
        stopGenerating();
    checkFinished();
}

void Simulator::checkFinished() {
    if (m_finished || m_generating || !m_started)
        return;
    bool done = true;
    for (const auto &dp : m_devices)
        if (!dp->outbox.empty() || dp->fixesInFlight > 0) {
            done = false;
            break;
        }
    if (!done && nowNs() < m_drainUntilNs)
        return;
    m_finished = true;
    m_stats.elapsedSec = m_clock.nsecsElapsed() / 1e9;
    stop();
    emit finished();
}

void Simulator::connectDevice(Device &d) {
    d.open = true;
    d.state = Device::Connecting;
    d.reconnectAtNs = nowNs();
    d.rx.clear();
    QString err;
    if (!m_transport->connectTo(d.index, m_options.host, m_options.port, &err))
        onDisconnected(d, err);
}

void Simulator::transportConnected(int conn) {
    Device *dp = deviceAt(conn);
    if (!dp || !dp->open || dp->state != Device::Connecting)
        return;
    Device &d = *dp;
    ++m_stats.connects;
    if (d.everConnected)
        ++m_stats.reconnects;
    d.everConnected = true;
    d.state = Device::LoggingIn;
    sendLogin(d);
}

void Simulator::transportClosed(int conn, const QString &why) {
    if (Device *d = deviceAt(conn))
        onDisconnected(*d, why);
}

void Simulator::onDisconnected(Device &d, const QString &why) {
    if (!d.open)
        return;
    d.open = false;
    m_transport->close(d.index);  // nothing when the transport reported the close
    const bool wasConnected = d.state != Device::Connecting;
    if (d.state == Device::Connecting)
        ++m_stats.connectFailures;
    if (d.state == Device::Ready)
        --m_stats.online;
    d.state = Device::Idle;
    // Unacknowledged fixes go back to the front of the outbox, in order: resent after
    // the next login, as real devices do.
    for (auto it = d.waiting.rbegin(); it != d.waiting.rend(); ++it)
        if (it->hasFix)
            d.outbox.push_front(std::move(it->fix));
    d.waiting.clear();
    d.fixesInFlight = 0;
    d.rx.clear();
    ++d.failures;
    d.reconnectAtNs = nowNs() + qint64(std::min(m_options.reconnectDelayMs * d.failures, 2000)) * 1000000;
    emit connectionLost(d.index, why, wasConnected);
}

void Simulator::write(Device &d, const QByteArray &bytes) {
    if (!d.open)
        return;
    m_stats.bytesSent += bytes.size();
    m_transport->send(d.index, bytes);
}

void Simulator::sendLogin(Device &d) {
    Waiting w;
    w.kind = Waiting::Login;
    w.sentNs = nowNs();
    QByteArray bytes;
    switch (d.spec.protocol) {
    case SimProtocol::Gt06: {
        const quint16 s = ++d.serial;
        bytes = gt06::encodeLogin(d.spec.id, s, 0, 0x3600);
        w.type = 0x01;
        w.key = s;
        w.expected = gt06::encodeAck(0x01, s);
        break;
    }
    case SimProtocol::Topin:
        bytes = gt06::encodeTopinLogin(d.spec.id);
        w.type = 0x01;
        w.key = 0;
        w.expected = gt06::encodeTopinReply(0x01);
        break;
    case SimProtocol::Jt808: {
        const quint16 s = ++d.serial;
        w.key = s;
        if (!d.registered) {
            jt808::RegisterInfo info;
            info.province = 44;
            info.city = 300;
            info.manufacturer = QStringLiteral("TDSIM");
            info.model = QStringLiteral("SIM-808");
            info.terminalId = QStringLiteral("S%1").arg(d.index % 1000000, 6, 10, QLatin1Char('0'));
            info.plateColor = 0;
            info.plate = QStringLiteral("SIMULATED%1").arg(d.index);
            bytes = jt808::encodeRegister(d.terminal, s, info);
            w.kind = Waiting::Register;
            w.type = jt808::msg::Register;
        } else {
            bytes = jt808::encodeAuthentication(d.terminal, s, d.authCode);
            w.type = jt808::msg::Authentication;
        }
        break;
    }
    }
    if (bytes.isEmpty()) {
        problem(QStringLiteral("device %1: cannot encode the login").arg(d.spec.id));
        return;
    }
    d.waiting.push_back(std::move(w));
    write(d, bytes);
}

void Simulator::sendHeartbeat(Device &d, qint64 now) {
    d.nextHeartbeatNs = now + qint64(d.spec.heartbeatSec) * 1000000000;
    Waiting w;
    w.kind = Waiting::Heartbeat;
    w.sentNs = now;
    QByteArray bytes;
    switch (d.spec.protocol) {
    case SimProtocol::Gt06: {
        const quint16 s = ++d.serial;
        bytes = gt06::encodeHeartbeat(s, 5, 4, false);
        w.type = 0x13;
        w.key = s;
        w.expected = gt06::encodeAck(0x13, s);
        break;
    }
    case SimProtocol::Topin:
        bytes = gt06::encodeTopinHeartbeat(d.spec.batteryPercent);
        w.type = 0x13;
        w.key = 0;
        w.expected = gt06::encodeTopinReply(0x13);
        break;
    case SimProtocol::Jt808: {
        const quint16 s = ++d.serial;
        bytes = jt808::encodeHeartbeat(d.terminal, s);
        w.type = jt808::msg::Heartbeat;
        w.key = s;
        break;
    }
    }
    ++m_stats.heartbeatsSent;
    d.waiting.push_back(std::move(w));
    write(d, bytes);
}

void Simulator::sendFixes(Device &d, qint64 now) {
    while (d.state == Device::Ready && !d.outbox.empty() && d.fixesInFlight < m_options.window) {
        Fix f = std::move(d.outbox.front());
        d.outbox.pop_front();
        sendFix(d, std::move(f), now);
    }
}

void Simulator::sendFix(Device &d, Fix &&fix, qint64 now) {
    Waiting w;
    w.kind = Waiting::FixAck;
    w.sentNs = now;
    QByteArray bytes;
    switch (d.spec.protocol) {
    case SimProtocol::Gt06: {
        const quint16 s = ++d.serial;
        if (fix.alarm) {
            bytes = gt06::encodeAlarm(s, fix.position, gt06AlarmCode(fix.alarmName).value_or(1));
            w.type = 0x26;
        } else {
            bytes = gt06::encodeGpsLbs(s, fix.position);
            w.type = 0x22;
        }
        w.key = s;
        w.expected = gt06::encodeAck(quint8(w.type), s);
        break;
    }
    case SimProtocol::Topin:
        bytes = fix.wifi ? gt06::encodeTopinWifi(fix.position) : gt06::encodeTopinGps(fix.position);
        w.type = fix.wifi ? 0x69 : 0x10;
        w.key = timeKey(bytes.mid(4, 6));
        w.expected = gt06::encodeTopinTimeEcho(quint8(w.type), bytes.mid(4, 6));
        break;
    case SimProtocol::Jt808: {
        const quint16 s = ++d.serial;
        jt808::LocationOptions o;
        o.gsmSignal = 25;
        o.batteryPercent = d.spec.batteryPercent;
        o.acc = true;
        if (fix.alarm)
            o.alarmBits = 1u << jt808::alarmBit(fix.alarmName).value_or(0);
        bytes = jt808::encodeLocation(d.terminal, s, fix.position, o);
        w.type = jt808::msg::Location;
        w.key = s;
        break;
    }
    }
    if (bytes.isEmpty()) {
        problem(QStringLiteral("device %1: cannot encode fix %2").arg(d.key).arg(fix.index));
        return;
    }
    if (fix.transmissions++ > 0) {
        ++m_stats.fixesResent;
    } else {
        ++m_stats.fixesSent;
        if (fix.alarm)
            ++m_stats.alarmsSent;
    }
    w.hasFix = true;
    w.fix = std::move(fix);
    d.waiting.push_back(std::move(w));
    ++d.fixesInFlight;
    write(d, bytes);
}

void Simulator::transportData(int conn, const char *data, qsizetype size) {
    Device *dp = deviceAt(conn);
    if (!dp || !dp->open)
        return;
    Device &d = *dp;
    m_stats.bytesReceived += size;
    d.rx.append(data, size);
    if (d.spec.protocol == SimProtocol::Jt808)
        handleJt808(d);
    else
        handleGt06(d);
    if (d.rx.size() > 65536) {
        problem(QStringLiteral("device %1: %2 bytes from the server that are no frames").arg(d.key).arg(d.rx.size()));
        ++m_stats.badAcks;
        d.rx.clear();
    }
}

void Simulator::handleGt06(Device &d) {
    const bool topin = d.spec.protocol == SimProtocol::Topin;
    while (d.open) {
        qsizetype start = -1;
        for (qsizetype i = 0; i + 1 < d.rx.size(); ++i) {
            const char c = d.rx[i];
            if ((c == 0x78 || c == 0x79) && d.rx[i + 1] == c) {
                start = i;
                break;
            }
        }
        if (start < 0)
            return;
        if (start > 0) {
            ++m_stats.badAcks;
            problem(QStringLiteral("device %1: %2 stray bytes from the server").arg(d.key).arg(start));
            d.rx.remove(0, start);
        }
        if (d.rx.size() < 5)
            return;
        const bool longHeader = quint8(d.rx[0]) == 0x79;
        const int len = longHeader ? be16(d.rx.constData() + 2) : quint8(d.rx[2]);
        const int typeAt = longHeader ? 4 : 3;
        const int total = topin && !longHeader && len == 0 ? 12 : len + (longHeader ? 6 : 5);
        if (d.rx.size() < total)
            return;
        const QByteArray frame = d.rx.left(total);
        d.rx.remove(0, total);
        const int type = quint8(frame[typeAt]);
        if (frame[total - 2] != '\r' || frame[total - 1] != '\n') {
            ++m_stats.badAcks;
            problem(QStringLiteral("device %1: a frame from the server without 0D 0A: %2").arg(d.key, QString::fromLatin1(frame.toHex())));
            continue;
        }
        if (type == 0x80 && !topin && total >= 15) {
            // Online command: command length, server flag, text [, language], serial, CRC.
            const int cmdLen = quint8(frame[typeAt + 1]);
            const quint32 flag = (quint32(quint8(frame[typeAt + 2])) << 24) | (quint32(quint8(frame[typeAt + 3])) << 16)
                                 | (quint32(quint8(frame[typeAt + 4])) << 8) | quint8(frame[typeAt + 5]);
            const QString text = QString::fromLatin1(frame.mid(typeAt + 6, qMax(0, cmdLen - 4)));
            ++m_stats.commandsReceived;
            emit commandReceived(d.index, text);
            write(d, gt06::encodeCommandReply(++d.serial, flag, QStringLiteral("OK %1").arg(text)));
            continue;
        }
        quint64 key = 0;
        if (topin)
            key = len == 0 ? timeKey(frame.mid(4, 6)) : 0;
        else
            key = be16(frame.constData() + total - 6);
        ackReceived(d, type, key, frame, QByteArray());
    }
}

void Simulator::handleJt808(Device &d) {
    while (d.open) {
        const qsizetype s = d.rx.indexOf(char(0x7E));
        if (s < 0) {
            d.rx.clear();
            return;
        }
        const qsizetype e = d.rx.indexOf(char(0x7E), s + 1);
        if (e < 0)
            return;
        if (e == s + 1) {  // "7E 7E": an end flag followed by a start flag; resync on the second
            d.rx.remove(0, s + 1);
            continue;
        }
        QStringList unescapeProblems;
        const QByteArray content = jt808::unescape(d.rx.mid(s + 1, e - s - 1), &unescapeProblems);
        d.rx.remove(0, e + 1);
        auto bad = [&](const QString &why) {
            ++m_stats.badAcks;
            problem(QStringLiteral("device %1: bad frame from the server (%2): %3").arg(d.key, why, QString::fromLatin1(content.toHex())));
        };
        if (!unescapeProblems.isEmpty() || content.size() < 13) {
            bad(unescapeProblems.isEmpty() ? QStringLiteral("too short") : unescapeProblems.join(QStringLiteral("; ")));
            continue;
        }
        if (jt808::checksum(content.left(content.size() - 1)) != quint8(content.back())) {
            bad(QStringLiteral("checksum"));
            continue;
        }
        const quint16 msgId = be16(content.constData());
        const quint16 props = be16(content.constData() + 2);
        const bool v2019 = props & 0x4000;
        int header = v2019 ? 17 : 12;
        if (props & 0x2000)
            header += 4;
        const QByteArray id = v2019 ? content.mid(5, 10) : content.mid(4, 6);
        const QByteArray body = content.mid(header, content.size() - 1 - header);
        if (body.size() != (props & 0x3FF)) {
            bad(QStringLiteral("body length %1, header says %2").arg(body.size()).arg(props & 0x3FF));
            continue;
        }
        if (id != d.terminal.id) {
            bad(QStringLiteral("addressed to terminal %1").arg(QString::fromLatin1(id.toHex())));
            continue;
        }
        if (msgId == jt808::msg::PlatformResponse && body.size() >= 5) {
            const quint16 ackSerial = be16(body.constData());
            const quint16 ackId = be16(body.constData() + 2);
            const int result = quint8(body[4]);
            if (result != 0)
                bad(QStringLiteral("result %1 for message %2").arg(result).arg(ackId, 4, 16, QLatin1Char('0')));
            ackReceived(d, ackId, ackSerial, content, result == 0 ? QByteArray() : QByteArrayLiteral("x"));
        } else if (msgId == jt808::msg::RegisterResponse && body.size() >= 3) {
            const quint16 ackSerial = be16(body.constData());
            const int result = quint8(body[2]);
            auto it = std::find_if(d.waiting.begin(), d.waiting.end(), [&](const Waiting &w) {
                return w.kind == Waiting::Register && w.key == ackSerial;
            });
            if (it == d.waiting.end()) {
                ++m_stats.unexpectedAcks;
                problem(QStringLiteral("device %1: register response for serial %2 that was not sent").arg(d.key).arg(ackSerial));
                continue;
            }
            d.waiting.erase(it);
            if (result != 0) {
                bad(QStringLiteral("registration refused, result %1").arg(result));
                continue;
            }
            d.registered = true;
            d.authCode = body.mid(3);
            sendLogin(d);  // now the authentication
        } else if (msgId == jt808::msg::TextMessage && !body.isEmpty()) {
            ++m_stats.commandsReceived;
            const QString text = QString::fromLatin1(body.mid(1));
            emit commandReceived(d.index, text);
            QByteArray reply;
            const quint16 serial = be16(content.constData() + (v2019 ? 15 : 10));
            reply.append(char(serial >> 8)).append(char(serial & 0xFF));
            reply.append(char(msgId >> 8)).append(char(msgId & 0xFF));
            reply.append(char(0));
            write(d, jt808::buildFrame(jt808::msg::TerminalResponse, d.terminal, ++d.serial, reply));
        }
        // Other platform messages (time, parameters) need no answer from the simulator.
    }
}

void Simulator::ackReceived(Device &d, int type, quint64 key, const QByteArray &bytes, const QByteArray &badMarker) {
    const qint64 now = nowNs();
    auto it = std::find_if(d.waiting.begin(), d.waiting.end(), [&](const Waiting &w) { return w.type == type && w.key == key; });
    if (it == d.waiting.end()) {
        ++m_stats.unexpectedAcks;
        problem(QStringLiteral("device %1: an ack for nothing sent: %2").arg(d.key, QString::fromLatin1(bytes.toHex())));
        return;
    }
    Waiting w = std::move(*it);
    d.waiting.erase(it);
    bool ok = badMarker.isEmpty();
    if (!w.expected.isEmpty() && bytes != w.expected) {
        ok = false;
        ++m_stats.badAcks;
        problem(QStringLiteral("device %1: ack %2, expected %3").arg(d.key, QString::fromLatin1(bytes.toHex()), QString::fromLatin1(w.expected.toHex())));
    }
    const double ms = (now - w.sentNs) / 1e6;
    if (ms > m_options.ackTimeoutMs)
        ++m_stats.lateAcks;
    switch (w.kind) {
    case Waiting::Login:
        if (!ok) {
            onDisconnected(d, QStringLiteral("bad login ack"));
            return;
        }
        d.state = Device::Ready;
        d.failures = 0;
        if (!d.everLoggedIn && m_options.startAtLogin && d.spec.rate > 0)
            d.nextFixNs = now + qint64(1e9 / d.spec.rate * (double(d.index % 97) / 97.0));
        d.everLoggedIn = true;
        ++m_stats.logins;
        ++m_stats.online;
        d.nextHeartbeatNs = now + qint64(d.spec.heartbeatSec) * 1000000000;
        emit deviceLoggedIn(d.index);
        sendFixes(d, now);
        break;
    case Waiting::Register:
        break;
    case Waiting::Heartbeat:
        if (ok)
            ++m_stats.heartbeatsAcked;
        break;
    case Waiting::FixAck:
        --d.fixesInFlight;
        if (!ok) {
            // Not a valid ack: the device keeps the fix and sends it again.
            d.outbox.push_front(std::move(w.fix));
            break;
        }
        ++m_stats.fixesAcked;
        if (w.fix.alarm)
            ++m_stats.alarmsAcked;
        if (m_latencies.size() < 20000000)
            m_latencies.push_back(float(ms));
        if (m_options.recordAcked)
            m_acked.append(AckedFix{d.key, w.fix.position, w.fix.alarm});
        emit fixAcked(d.index, ms);
        sendFixes(d, now);
        break;
    }
}

SimStats Simulator::stats() const {
    SimStats s = m_stats;
    if (!m_finished && m_started)
        s.elapsedSec = m_clock.nsecsElapsed() / 1e9;
    qint64 unacked = 0;
    for (const auto &dp : m_devices)
        unacked += qint64(dp->outbox.size()) + dp->fixesInFlight;
    s.fixesUnacked = unacked;
    s.latencySamples = qint64(m_latencies.size());
    if (!m_latencies.empty()) {
        std::vector<float> v = m_latencies;
        auto pct = [&v](double q) {
            const size_t k = std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5));
            std::nth_element(v.begin(), v.begin() + qsizetype(k), v.end());
            return double(v[k]);
        };
        s.latencyP50Ms = pct(0.50);
        s.latencyP90Ms = pct(0.90);
        s.latencyP99Ms = pct(0.99);
        s.latencyMaxMs = double(*std::max_element(v.begin(), v.end()));
    }
    return s;
}

} // namespace td::sim
