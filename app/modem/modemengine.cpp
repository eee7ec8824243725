// The modem engine: one QSerialPort, one command in flight, unsolicited codes handled as they
// come. Facts behind every step: shared/reference/modem/facts.md (init sequence, prompt
// without line end, SIM busy after the PIN, "SMS Ready" delay, +CMS 500 on an empty index,
// CNMI/CPMS probing with =?, reset URCs, sweep with AT+CMGL=4, storage hygiene).
//
// Structure:
//   * Command queue: every AT command is a Command with its timeout and a completion
//     callback; pump() writes the next one when nothing is in flight. A command that needs a
//     particular storage (AT+CMGR/CMGL/CMGD) names it, and pump() switches AT+CPMS first.
//   * Init: a chain of steps, each one command whose callback starts the next step
//     (SIM busy answers are retried with a capped back-off inside initCommand()).
//   * Every asynchronous continuation is tagged with the connection generation; close(),
//     a vanished port or a modem reset bump it, so nothing from an old connection runs on.
#include "modem/modemengine.h"

#include "trackerdesk/protocol/atline.h"

#include <QElapsedTimer>
#include <algorithm>
#include <QFileInfo>
#include <QSerialPort>
#include <QTimer>
#include <deque>
#include <functional>
#include <map>

#ifdef Q_OS_UNIX
#include <poll.h>
#endif

namespace td::modem {

namespace at = td::proto::at;

namespace {

constexpr int kSyncTries = 5;             // "AT" until OK (autobauding UARTs, stale prompt)
constexpr int kSyncTimeoutMs = 1500;      // per try, capped by commandTimeoutMs
constexpr int kMaxTimeouts = 3;           // consecutive timeouts: the modem is gone
constexpr int kHangupCheckMs = 250;       // how often the port is checked for a hang-up
constexpr int kRefreshMs = 60 * 1000;     // signal / registration while idle
constexpr int kMaxReplyLines = 4096;      // AT+CMGL on a big ME store: 2 lines per message
constexpr int kMaxReplyBytes = 2 * 1024 * 1024;
constexpr int kMaxBusyBackoffMs = 10000;  // cap of the SIM busy back-off
constexpr int kMaxPduBytes = 12 + 164;    // SMSC field (<= 12) + the longest TPDU
constexpr int kMaxParts = 255;            // concatenation limit
constexpr char kCtrlZ = '\x1A';
constexpr char kEsc = '\x1B';

// CMS/CME causes worth another try later: SIM busy / please wait (codec), no service,
// network timeout, the catch-all 500 and the network's temporary causes (< 256).
bool transientFinal(const at::Final &f) {
    if (f.retryable())
        return true;
    switch (f.kind) {
    case at::FinalKind::Ok:
        return false;
    case at::FinalKind::CmsError:
        switch (f.code) {
        case -1:      // verbose text we cannot classify
        case 17:      // network failure
        case 22:      // memory capacity exceeded (recipient)
        case 27:      // destination out of service
        case 38:      // network out of order
        case 41:      // temporary failure
        case 42:      // congestion
        case 47:      // resources unavailable
        case 98:      // message not compatible with protocol state
        case 111:     // protocol error
        case 127:     // interworking
        case 192:     // SC busy
        case 194:     // SC system failure
        case 300:     // ME failure
        case 320:     // memory failure
        case 331:     // no network service
        case 332:     // network timeout
        case 500:     // unknown error (seen on send with a flaky network)
        case 515:
            return true;
        default:
            return f.code >= 512;   // manufacturer-specific: unknown, give it another go
        }
    case at::FinalKind::CmeError:
        switch (f.code) {
        case -1: case 0: case 30: case 31: case 100: case 515:
            return true;
        default:
            return false;
        }
    case at::FinalKind::Error:         // plain ERROR says nothing about the cause
    case at::FinalKind::NoCarrier:
    case at::FinalKind::Busy:
    case at::FinalKind::NoAnswer:
        return true;
    case at::FinalKind::CommandNotSupport:
        return false;
    }
    return false;
}

std::optional<QByteArray> hexLine(const QByteArray &line) {
    const QByteArray t = line.trimmed();
    if (t.isEmpty() || t.size() % 2 != 0 || t.size() > 2 * 512)
        return std::nullopt;
    for (char c : t)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')))
            return std::nullopt;
    return QByteArray::fromHex(t);
}

// PDU-mode reads put the SMSC field first; +CDS / +CMT on some modems do not. `tpduLength`
// is the length the modem announced (without the SMSC field). The result always starts
// with an SMSC field ("00": none), as ReceivedPdu promises.
QByteArray withSmscField(const QByteArray &bytes, int tpduLength) {
    if (tpduLength > 0 && bytes.size() == tpduLength)
        return QByteArray(1, '\0') + bytes;
    return bytes;
}

// TP-MTI of a PDU with its SMSC field first: 0 DELIVER, 1 SUBMIT, 2 STATUS-REPORT; -1 when
// the PDU is too short to tell.
int messageTypeIndicator(const QByteArray &pdu) {
    if (pdu.isEmpty())
        return -1;
    const int smscLength = quint8(pdu.at(0));
    if (pdu.size() <= 1 + smscLength)
        return -1;
    return quint8(pdu.at(1 + smscLength)) & 0x03;
}

// "+CGMI: SIMCOM_Ltd" -> "SIMCOM_Ltd"; "Revision:1418B04SIM800L24" stays as it is.
QString infoText(const QByteArray &line, const char *prefix) {
    QByteArray t = line.trimmed();
    const QByteArray p = QByteArray(prefix) + ':';
    if (t.startsWith(p))
        t = t.mid(p.size()).trimmed();
    if (t.size() >= 2 && t.startsWith('"') && t.endsWith('"'))
        t = t.mid(1, t.size() - 2);
    QString s = QString::fromLatin1(t.left(120));
    for (QChar &c : s)
        if (c.unicode() < 0x20 || c.unicode() > 0x7E)
            c = QLatin1Char('?');
    return s;
}

bool sameInfo(const ModemInfo &a, const ModemInfo &b) {
    return a.manufacturer == b.manufacturer && a.model == b.model && a.revision == b.revision && a.imei == b.imei
        && a.simState == b.simState && a.operatorName == b.operatorName && a.registration == b.registration
        && a.signalDbm == b.signalDbm && a.smsc == b.smsc && a.storage == b.storage
        && a.storageUsed == b.storageUsed && a.storageTotal == b.storageTotal;
}

// Where the port lives in the file system (to notice it vanished); empty when unknown.
QString systemLocation(const QString &port) {
#ifdef Q_OS_UNIX
    return port.startsWith(QLatin1Char('/')) ? port : QStringLiteral("/dev/") + port;
#else
    Q_UNUSED(port);
    return {};
#endif
}

// A line for traffic(): the PIN of AT+CPIN="..." (echoed by a modem with echo on) masked.
QByteArray masked(const QByteArray &line) {
    const int at = int(line.toUpper().indexOf("+CPIN="));
    if (at < 0)
        return line;
    QByteArray out = line.left(at + 6);
    for (int i = at + 6; i < line.size(); ++i)
        out.append(line.at(i) == '"' ? '"' : '*');
    return out;
}

QString pickMemory(const QStringList &offered) {
    for (const char *m : {"SM", "MT", "ME"})
        if (offered.contains(QLatin1String(m)))
            return QString::fromLatin1(m);
    return offered.isEmpty() ? QString() : offered.first();
}

} // namespace

struct Reply {
    QList<QByteArray> lines;          // response lines (no echo, no URCs, no final)
    std::optional<at::Final> final;
    bool timedOut = false;
    bool aborted = false;             // connection lost / engine closed before the answer
    int bytes = 0;
    bool ok() const { return final && final->ok(); }
    QString errorText() const {
        if (aborted)
            return QStringLiteral("connection to the modem lost");
        if (timedOut)
            return QStringLiteral("no answer");
        return final ? final->text : QStringLiteral("no final result");
    }
    QByteArray firstLine(const char *prefix) const {
        for (const QByteArray &l : lines)
            if (l.trimmed().startsWith(prefix))
                return l.trimmed();
        return {};
    }
};

struct Command {
    QByteArray line;                  // "AT+CSQ" (sent with CR)
    QByteArray logLine;               // what traffic() shows when it differs (PIN)
    int timeoutMs = 5000;
    QByteArray payload;               // AT+CMGS: hex PDU, written after the prompt
    QByteArray payloadLog;
    int payloadTimeoutMs = 0;         // final reply after the payload
    QString memory;                   // storage the command works on ("" = any)
    bool countTimeout = true;         // false: a timeout here is expected (sync)
    std::function<void(const Reply &)> done;
};

struct SendJob {
    quint64 id = 0;
    QList<QByteArray> pdus;
    QList<int> lengths;
    QList<int> references;
};

struct ModemEngine::Private {
    ModemEngine *q = nullptr;
    ModemConfig config;
    ModemState state = ModemState::Closed;
    QString detail;
    ModemInfo info;
    ModemInfo published;
    bool infoPublished = false;

    QSerialPort *port = nullptr;
    bool opening = false;
    at::Reader reader;
    quint64 generation = 0;

    std::deque<Command> queue;
    std::optional<Command> current;
    Reply currentReply;
    bool payloadWritten = false;
    QTimer commandTimer;
    int consecutiveTimeouts = 0;

    QTimer reconnectTimer, refreshTimer, sweepTimer, hangupTimer;

    // init
    QElapsedTimer initClock;
    QElapsedTimer smsClock;
    int busyDelayMs = 0;
    bool pinEntered = false;
    bool smsReady = false;            // "SMS Ready" seen on this connection
    std::function<void()> smsReadyWaiter;
    QString mem1;                     // current read/delete memory on the modem
    QStringList mem1Options;
    QString readMemory;               // the one chosen by init
    bool clip = false;
    bool sweeping = false;
    QList<QPair<QString, int>> pendingDeletes;

    std::map<quint64, SendJob> jobs;
    quint64 lastJob = 0;

    explicit Private(ModemEngine *owner) : q(owner) {
        commandTimer.setSingleShot(true);
        reconnectTimer.setSingleShot(true);
    }

    // ---- state ----
    void setState(ModemState s, const QString &why) {
        if (s == state && why == detail)
            return;
        state = s;
        detail = why;
        emit q->stateChanged(state, detail);
    }
    void publishInfo() {
        if (infoPublished && sameInfo(info, published))
            return;
        info.updated = QDateTime::currentDateTimeUtc();
        published = info;
        infoPublished = true;
        emit q->infoChanged(info);
    }
    // Runs f after ms unless the connection changed meanwhile.
    void later(int ms, std::function<void()> f) {
        QTimer::singleShot(qMax(ms, 0), q, [this, gen = generation, f = std::move(f)] {
            if (gen == generation)
                f();
        });
    }

    // ---- port ----
    void openPort();
    void dropPort();
    void onReadyRead();
    void onPortError(QSerialPort::SerialPortError error);
    void checkHangup();
    bool write(const QByteArray &bytes, const QByteArray &logLine);
    void connectionLost(const QString &why);
    void abortAll(const QString &why);
    void fail(const QString &why);

    // ---- commands ----
    void enqueue(Command c, bool front = false);
    void pump();
    void complete(Reply r);
    void onCommandTimeout();
    void handleEvent(const at::Event &e);
    void handleUrc(const at::Event &e);

    // ---- init ----
    void startInit();
    void initCommand(const QByteArray &line, std::function<void(const Reply &)> next, int timeoutMs = 0,
                     const QByteArray &logLine = {});
    void syncTry(int attempt);
    void stepEcho();
    void stepCpin();
    void stepEnterPin();
    void stepCfun();
    void stepInfo();
    void stepNetwork();
    void stepCmgf();
    void stepCpms();
    void setCpms(const QList<QStringList> &offered);
    void queryCpms(std::function<void()> next);
    void stepCnmi();
    void tryCnmi(QList<QByteArray> candidates);
    void stepCsca();
    void becomeReady();

    // ---- messages ----
    void refresh();
    void readStored(const QString &memory, int index, bool report);
    void deliverStored(const QString &memory, int index, int stat, const QByteArray &pdu, bool report);
    void queueDelete(const QString &memory, int index);
    void runSweep();
    void listMemory(const QString &memory, std::function<void()> next);
    void sendPart(quint64 jobId, bool front);
    void finishJob(quint64 jobId, const QString &error, bool retryable);
    void applyRegistration(const QByteArray &line);
    void applyCpmsUse(const QByteArray &line);
};

// =====================================================================================
// port

void ModemEngine::Private::openPort() {
    dropPort();
    setState(ModemState::Opening, QStringLiteral("opening %1").arg(config.port));
    port = new QSerialPort(q);
    port->setPortName(config.port);
    opening = true;
    const bool ok = port->open(QIODevice::ReadWrite);
    opening = false;
    if (!ok) {
        const QString why = port->errorString();
        const auto err = port->error();
        dropPort();
        QString hint;
        if (err == QSerialPort::PermissionError)
            hint = QStringLiteral(" (is the user in the dialout group? is ModemManager holding the port?)");
        connectionLost(QStringLiteral("cannot open %1: %2%3").arg(config.port, why, hint));
        return;
    }
    if (!port->setBaudRate(config.baud) || !port->setDataBits(QSerialPort::Data8)
        || !port->setParity(QSerialPort::NoParity) || !port->setStopBits(QSerialPort::OneStop)
        || !port->setFlowControl(QSerialPort::NoFlowControl)) {
        const QString why = port->errorString();
        dropPort();
        connectionLost(QStringLiteral("cannot configure %1 (%2 8N1): %3").arg(config.port).arg(config.baud).arg(why));
        return;
    }
    port->clear();
    reader.reset();
    QObject::connect(port, &QSerialPort::readyRead, q, [this] { onReadyRead(); });
    QObject::connect(port, &QSerialPort::errorOccurred, q,
                     [this](QSerialPort::SerialPortError e) { onPortError(e); });
    hangupTimer.start(kHangupCheckMs);
    startInit();
}

void ModemEngine::Private::dropPort() {
    hangupTimer.stop();
    if (!port)
        return;
    QSerialPort *p = port;
    port = nullptr;
    p->disconnect(q);
    if (p->isOpen())
        p->close();
    p->deleteLater();          // may be inside one of its own signals
    reader.reset();
    reader.setCommand({});
}

void ModemEngine::Private::onReadyRead() {
    if (!port)
        return;
    const quint64 gen = generation;
    // Bounded per turn: the reader keeps at most MaxLine of a partial line.
    const QByteArray data = port->read(64 * 1024);
    if (data.isEmpty())
        return;
    const QList<at::Event> events = reader.feed(data);
    for (const at::Event &e : events) {
        handleEvent(e);
        if (gen != generation || !port)
            return;
    }
    if (port->bytesAvailable() > 0)
        QTimer::singleShot(0, q, [this, gen] {
            if (gen == generation)
                onReadyRead();
        });
}

void ModemEngine::Private::onPortError(QSerialPort::SerialPortError error) {
    if (opening || !port)
        return;
    switch (error) {
    case QSerialPort::NoError:
    case QSerialPort::TimeoutError:
        return;
    case QSerialPort::ResourceError:
    case QSerialPort::ReadError:
    case QSerialPort::WriteError:
    case QSerialPort::DeviceNotFoundError:
    case QSerialPort::PermissionError:
    case QSerialPort::OpenError:
    case QSerialPort::NotOpenError:
    case QSerialPort::UnknownError:
    case QSerialPort::UnsupportedOperationError:
        break;
    }
    connectionLost(QStringLiteral("port %1 lost: %2").arg(config.port, port->errorString()));
}

// An unplugged USB modem (or a closed pty master) hangs the tty up: read() returns 0 for
// ever and QSerialPort reports no error (it keeps polling instead). poll() tells.
void ModemEngine::Private::checkHangup() {
#ifdef Q_OS_UNIX
    if (!port || !port->isOpen())
        return;
    pollfd p{int(port->handle()), POLLIN, 0};
    if (p.fd < 0 || ::poll(&p, 1, 0) < 0)
        return;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
        connectionLost(QStringLiteral("port %1 hung up (modem unplugged or reset)").arg(config.port));
#endif
}

bool ModemEngine::Private::write(const QByteArray &bytes, const QByteArray &logLine) {
    if (!port)
        return false;
    emit q->traffic(true, logLine);
    if (!port || port->write(bytes) != bytes.size()) {
        if (port)
            connectionLost(QStringLiteral("cannot write to %1: %2").arg(config.port, port->errorString()));
        return false;
    }
    return true;
}

// Fails the command in flight and the queue (send jobs get their sendFinished) without
// touching the port.
void ModemEngine::Private::abortAll(const QString &why) {
    ++generation;
    commandTimer.stop();
    sweeping = false;
    smsReadyWaiter = nullptr;
    std::deque<Command> dropped;
    if (current) {
        dropped.push_back(std::move(*current));
        current.reset();
    }
    for (auto &c : queue)
        dropped.push_back(std::move(c));
    queue.clear();
    reader.setCommand({});
    Reply r;
    r.aborted = true;
    for (Command &c : dropped)
        if (c.done)
            c.done(r);
    // Jobs between two parts have no command queued: finish them too.
    while (!jobs.empty())
        finishJob(jobs.begin()->first, why, true);
}

// The port vanished, the modem reset or stopped answering: Reconnecting, reopen later.
void ModemEngine::Private::connectionLost(const QString &why) {
    refreshTimer.stop();
    sweepTimer.stop();
    dropPort();
    setState(ModemState::Reconnecting,
             QStringLiteral("%1; retrying every %2 s").arg(why).arg(config.reconnectIntervalMs / 1000.0, 0, 'g', 3));
    reconnectTimer.start(qMax(config.reconnectIntervalMs, 10));
    abortAll(QStringLiteral("modem connection lost (%1)").arg(why));
}

// Init failed for a reason a retry cannot fix (PIN, PUK, no SIM): stay down until open().
void ModemEngine::Private::fail(const QString &why) {
    refreshTimer.stop();
    sweepTimer.stop();
    reconnectTimer.stop();
    dropPort();
    setState(ModemState::Failed, why);
    abortAll(why);
}

// =====================================================================================
// commands

void ModemEngine::Private::enqueue(Command c, bool front) {
    if (front)
        queue.push_front(std::move(c));
    else
        queue.push_back(std::move(c));
    pump();
}

void ModemEngine::Private::pump() {
    if (current || queue.empty() || !port)
        return;
    // Storage first: AT+CMGR/CMGL/CMGD work on the read memory (mem1).
    const QString mem = queue.front().memory;
    if (!mem.isEmpty() && mem != mem1) {
        const auto arg = at::quoted(mem);
        if (!arg || (!mem1Options.isEmpty() && !mem1Options.contains(mem))) {
            Command c = std::move(queue.front());
            queue.pop_front();
            Reply r;
            at::Final f;
            f.kind = at::FinalKind::Error;
            f.text = QStringLiteral("storage \"%1\" not offered by the modem").arg(mem);
            r.final = f;
            if (c.done)
                c.done(r);
            pump();
            return;
        }
        Command sw;
        sw.line = "AT+CPMS=" + *arg;
        sw.timeoutMs = config.commandTimeoutMs;
        sw.done = [this, mem](const Reply &r) {
            if (r.aborted)
                return;
            if (r.ok()) {
                mem1 = mem;
                return;
            }
            // The command that needed this storage must not run on another one.
            if (!queue.empty() && queue.front().memory == mem) {
                Command c = std::move(queue.front());
                queue.pop_front();
                if (c.done)
                    c.done(r);
            }
        };
        queue.push_front(std::move(sw));
    }
    current = std::move(queue.front());
    queue.pop_front();
    currentReply = Reply();
    payloadWritten = false;
    reader.setCommand(current->line);
    const bool prompt = !current->payload.isEmpty();
    commandTimer.start(qMax(prompt ? qMin(config.commandTimeoutMs, current->timeoutMs) : current->timeoutMs, 1));
    write(current->line + '\r', current->logLine.isEmpty() ? current->line : current->logLine);
}

void ModemEngine::Private::complete(Reply r) {
    commandTimer.stop();
    if (!current)
        return;
    Command c = std::move(*current);
    current.reset();
    reader.setCommand({});
    if (r.timedOut && c.countTimeout)
        ++consecutiveTimeouts;
    else if (!r.timedOut)
        consecutiveTimeouts = 0;
    const quint64 gen = generation;
    if (c.done)
        c.done(r);
    if (gen != generation)
        return;
    if (consecutiveTimeouts >= kMaxTimeouts) {
        consecutiveTimeouts = 0;
        connectionLost(QStringLiteral("the modem stopped answering (%1 commands timed out)").arg(kMaxTimeouts));
        return;
    }
    pump();
}

void ModemEngine::Private::onCommandTimeout() {
    if (!current)
        return;
    if (!current->payload.isEmpty() && !payloadWritten) {
        // No prompt: cancel the input mode the modem might still be in.
        write(QByteArray(1, kEsc), QByteArrayLiteral("<ESC>"));
        if (!current)
            return;
    }
    Reply r = std::move(currentReply);
    r.timedOut = true;
    complete(std::move(r));
}

void ModemEngine::Private::handleEvent(const at::Event &e) {
    switch (e.kind) {
    case at::Event::Echo:
        emit q->traffic(false, masked(e.line));
        return;
    case at::Event::Line:
        emit q->traffic(false, masked(e.line));
        if (current && !e.line.trimmed().isEmpty() && currentReply.lines.size() < kMaxReplyLines
            && currentReply.bytes < kMaxReplyBytes) {
            currentReply.lines.append(e.line);
            currentReply.bytes += int(e.line.size());
        }
        return;
    case at::Event::Final:
        emit q->traffic(false, e.line);
        if (current) {
            Reply r = std::move(currentReply);
            r.final = e.final;
            complete(std::move(r));
        }
        return;   // a late answer to a command that timed out: only logged
    case at::Event::Prompt:
        emit q->traffic(false, e.line);
        if (current && !current->payload.isEmpty() && !payloadWritten) {
            payloadWritten = true;
            commandTimer.start(qMax(current->payloadTimeoutMs, 1));
            write(current->payload, current->payloadLog);
        }
        return;
    case at::Event::Urc:
        emit q->traffic(false, e.line);
        if (!e.pdu.isEmpty())
            emit q->traffic(false, e.pdu);
        handleUrc(e);
        return;
    case at::Event::Overflow:
        emit q->traffic(false, QByteArrayLiteral("<line longer than ") + QByteArray::number(at::Reader::MaxLine)
                                   + QByteArrayLiteral(" bytes dropped: ") + e.line.left(40) + "...>");
        return;
    }
}

void ModemEngine::Private::handleUrc(const at::Event &e) {
    const QString &name = e.urc;
    if (name == QLatin1String("+CMTI") || name == QLatin1String("+CDSI")) {
        const auto ind = at::parseCmti(e.line);
        if (ind && state == ModemState::Ready)
            readStored(ind->memory, ind->index, name == QLatin1String("+CDSI"));
        return;   // before Ready: the sweep after init finds it
    }
    if (name == QLatin1String("+CMT") || name == QLatin1String("+CDS")) {
        const auto length = at::parsePduLength(e.line);
        const auto bytes = hexLine(e.pdu);
        if (!length || !bytes)
            return;
        ReceivedPdu m;
        m.pdu = withSmscField(*bytes, *length);
        if (name == QLatin1String("+CDS"))
            emit q->statusReportReceived(m);
        else
            emit q->messageReceived(m);
        return;
    }
    if (name == QLatin1String("+CREG")) {
        applyRegistration(e.line);
        if (state == ModemState::Ready)
            publishInfo();
        return;
    }
    if (name == QLatin1String("+CLIP")) {
        const QByteArray t = e.line.trimmed();
        const int a = int(t.indexOf('"'));
        const int b = a >= 0 ? int(t.indexOf('"', a + 1)) : -1;
        QString number = b > a ? QString::fromLatin1(t.mid(a + 1, b - a - 1)).left(40) : QString();
        for (QChar c : std::as_const(number))
            if (!(c.isDigit() || c == QLatin1Char('+') || c == QLatin1Char('*') || c == QLatin1Char('#'))) {
                number.clear();
                break;
            }
        emit q->incomingCall(number);
        return;
    }
    if (name == QLatin1String("RING")) {
        if (!clip)
            emit q->incomingCall(QString());
        return;
    }
    if (name == QLatin1String("SMS Ready")) {
        smsReady = true;
        if (auto w = std::exchange(smsReadyWaiter, nullptr))
            w();
        return;
    }
    if (name == QLatin1String("RDY") || name == QLatin1String("+CPIN")) {
        // A reset: echo is back on, CNMI back to its default. Re-run everything. A +CPIN
        // during init is the answer to our own PIN entry, RDY during init a reboot.
        if (state == ModemState::Ready) {
            connectionLost(QStringLiteral("the modem restarted (%1)").arg(QString::fromLatin1(e.line.trimmed())));
        } else if (state == ModemState::Initialising && name == QLatin1String("RDY")) {
            abortAll(QStringLiteral("the modem restarted during initialisation"));
            startInit();
        }
        return;
    }
    if (name.endsWith(QLatin1String("POWER DOWN"))) {
        if (state == ModemState::Ready || state == ModemState::Initialising)
            connectionLost(QStringLiteral("the modem powered down (%1)").arg(name));
        return;
    }
    // +CGREG/+CEREG/+CUSD/Call Ready/...: logged by traffic() only.
}

// =====================================================================================
// init

void ModemEngine::Private::startInit() {
    setState(ModemState::Initialising, QStringLiteral("synchronising with the modem"));
    initClock.restart();
    busyDelayMs = qMax(config.simBusyRetryMs, 10);
    pinEntered = false;
    mem1.clear();
    mem1Options.clear();
    readMemory.clear();
    clip = false;
    consecutiveTimeouts = 0;
    const ModemInfo old = info;
    info = ModemInfo();
    info.updated = old.updated;
    // A modem left waiting for PDU input by an earlier run takes ESC as "cancel".
    write(QByteArray(1, kEsc), QByteArrayLiteral("<ESC>"));
    if (port)
        syncTry(1);
}

// One init command; SIM busy / 515 answers are retried with a doubling delay (capped)
// until readyTimeoutMs since the start of init.
void ModemEngine::Private::initCommand(const QByteArray &line, std::function<void(const Reply &)> next, int timeoutMs,
                                       const QByteArray &logLine) {
    Command c;
    c.line = line;
    c.logLine = logLine;
    c.timeoutMs = timeoutMs > 0 ? timeoutMs : config.commandTimeoutMs;
    c.done = [this, line, next, timeoutMs, logLine](const Reply &r) {
        if (r.aborted)
            return;
        if (r.final && r.final->retryable() && initClock.elapsed() < config.readyTimeoutMs) {
            setState(ModemState::Initialising, QStringLiteral("SIM busy, waiting (%1)").arg(r.final->text));
            const int delay = busyDelayMs;
            busyDelayMs = qMin(busyDelayMs * 2, qMin(kMaxBusyBackoffMs, qMax(8 * config.simBusyRetryMs, 10)));
            later(delay, [this, line, next, timeoutMs, logLine] { initCommand(line, next, timeoutMs, logLine); });
            return;
        }
        next(r);
    };
    enqueue(std::move(c));
}

void ModemEngine::Private::syncTry(int attempt) {
    Command c;
    c.line = "AT";
    c.timeoutMs = qMax(qMin(config.commandTimeoutMs, kSyncTimeoutMs), 1);
    c.countTimeout = false;
    c.done = [this, attempt](const Reply &r) {
        if (r.aborted)
            return;
        if (r.ok()) {
            stepEcho();
            return;
        }
        if (attempt >= kSyncTries) {
            connectionLost(QStringLiteral("no answer to AT on %1 (%2)").arg(config.port, r.errorText()));
            return;
        }
        // An ERROR (garbage before the command) is answered at once; retry after a pause.
        later(r.timedOut ? 0 : 100, [this, attempt] { syncTry(attempt + 1); });
    };
    enqueue(std::move(c));
}

void ModemEngine::Private::stepEcho() {
    initCommand("ATE0", [this](const Reply &) {
        initCommand("AT+CMEE=1", [this](const Reply &) { stepCpin(); });
    });
}

void ModemEngine::Private::stepCpin() {
    setState(ModemState::Initialising, QStringLiteral("checking the SIM"));
    initCommand("AT+CPIN?", [this](const Reply &r) {
        // Some modems answer +CPIN without a final OK: accept the line at the timeout.
        const auto sim = at::parseCpin(r.firstLine("+CPIN"));
        if (sim) {
            info.simState = *sim;
            const QString s = sim->toUpper();
            if (s == QLatin1String("READY") || s == QLatin1String("SIM PIN2") || s == QLatin1String("SIM PUK2")) {
                stepCfun();
            } else if (s == QLatin1String("SIM PIN")) {
                if (pinEntered) {
                    // Accepted but not yet applied: ask again (bounded by readyTimeoutMs).
                    if (initClock.elapsed() >= config.readyTimeoutMs)
                        fail(QStringLiteral("the SIM still asks for its PIN after it was entered"));
                    else
                        later(busyDelayMs, [this] { stepCpin(); });
                } else if (config.pin.isEmpty()) {
                    fail(QStringLiteral("the SIM needs its PIN: set it in the modem settings"));
                } else {
                    stepEnterPin();
                }
            } else if (s == QLatin1String("SIM PUK")) {
                fail(QStringLiteral("the SIM is blocked (PUK required): unblock it in a phone"));
            } else if (s.startsWith(QLatin1String("PH-"))) {
                fail(QStringLiteral("the modem is locked (%1): unlock it first").arg(*sim));
            } else if (s.contains(QLatin1String("NOT INSERTED"))) {
                fail(QStringLiteral("no SIM card in the modem"));
            } else if (initClock.elapsed() < config.readyTimeoutMs) {
                later(busyDelayMs, [this] { stepCpin(); });   // "NOT READY": starting up
            } else {
                fail(QStringLiteral("the SIM is not ready (%1)").arg(*sim));
            }
            return;
        }
        if (r.final && !r.final->ok()) {
            const at::Final &f = *r.final;
            const bool cme = f.kind == at::FinalKind::CmeError, cms = f.kind == at::FinalKind::CmsError;
            if ((cme && f.code == 10) || (cms && f.code == 310)) {
                fail(QStringLiteral("no SIM card in the modem (%1)").arg(f.text));
                return;
            }
            if ((cme && (f.code == 13 || f.code == 15)) || (cms && (f.code == 313 || f.code == 315))) {
                fail(QStringLiteral("SIM failure (%1)").arg(f.text));
                return;
            }
            if ((cme && f.code == 12) || (cms && f.code == 316)) {
                fail(QStringLiteral("the SIM is blocked (PUK required): unblock it in a phone (%1)").arg(f.text));
                return;
            }
            if ((cme && f.code == 11) || (cms && f.code == 311)) {
                if (config.pin.isEmpty())
                    fail(QStringLiteral("the SIM needs its PIN: set it in the modem settings"));
                else if (!pinEntered)
                    stepEnterPin();
                else
                    fail(QStringLiteral("the SIM still asks for its PIN after it was entered"));
                return;
            }
        }
        // No AT+CPIN? support or no answer: carry on, SMS commands will tell.
        stepCfun();
    });
}

void ModemEngine::Private::stepEnterPin() {
    const QString &pin = config.pin;
    bool digits = pin.size() >= 4 && pin.size() <= 8;
    for (QChar c : pin)
        digits = digits && c.isDigit() && c.unicode() < 0x80;
    if (!digits) {
        fail(QStringLiteral("the configured SIM PIN is not 4 to 8 digits"));
        return;
    }
    setState(ModemState::Initialising, QStringLiteral("entering the SIM PIN"));
    pinEntered = true;   // never twice per init: a wrong PIN must not burn the attempts
    Command c;
    c.line = "AT+CPIN=\"" + pin.toLatin1() + '"';
    c.logLine = "AT+CPIN=\"" + QByteArray(pin.size(), '*') + '"';
    c.timeoutMs = config.commandTimeoutMs;
    c.done = [this](const Reply &r) {
        if (r.aborted)
            return;
        if (r.ok()) {
            stepCpin();   // SIM busy for a while: AT+CPIN? is retried with the back-off
            return;
        }
        if (r.timedOut) {
            fail(QStringLiteral("no answer to the SIM PIN; not retried to protect the SIM"));
            return;
        }
        const at::Final &f = *r.final;
        if ((f.kind == at::FinalKind::CmeError && f.code == 12) || (f.kind == at::FinalKind::CmsError && f.code == 316))
            fail(QStringLiteral("the SIM is blocked (PUK required): unblock it in a phone (%1)").arg(f.text));
        else
            fail(QStringLiteral("wrong SIM PIN (%1); not retried to protect the SIM: correct it in the modem "
                                "settings").arg(f.text));
    };
    enqueue(std::move(c));
}

void ModemEngine::Private::stepCfun() {
    setState(ModemState::Initialising, QStringLiteral("reading the modem identity"));
    initCommand("AT+CFUN?", [this](const Reply &r) {
        const QByteArray line = r.firstLine("+CFUN");
        const QByteArray v = line.mid(line.indexOf(':') + 1).trimmed();
        if (!line.isEmpty() && v != "1") {
            // Radio off (a Qualcomm stick starts with +CFUN: 0): switch it on.
            initCommand("AT+CFUN=1", [this](const Reply &) { stepInfo(); }, qMax(config.commandTimeoutMs, 2 * config.commandTimeoutMs));
            return;
        }
        stepInfo();
    });
}

void ModemEngine::Private::stepInfo() {
    initCommand("AT+CGMI", [this](const Reply &r) {
        if (r.ok() && !r.lines.isEmpty())
            info.manufacturer = infoText(r.lines.first(), "+CGMI");
        initCommand("AT+CGMM", [this](const Reply &r) {
            if (r.ok() && !r.lines.isEmpty())
                info.model = infoText(r.lines.first(), "+CGMM");
            initCommand("AT+CGMR", [this](const Reply &r) {
                if (r.ok() && !r.lines.isEmpty())
                    info.revision = infoText(r.lines.first(), "+CGMR");
                initCommand("AT+CGSN", [this](const Reply &r) {
                    if (r.ok())
                        for (const QByteArray &l : r.lines) {
                            const QString t = infoText(l, "+CGSN");
                            if (t.size() >= 14 && t.size() <= 17
                                && std::all_of(t.begin(), t.end(), [](QChar c) { return c.isDigit(); })) {
                                info.imei = t;
                                break;
                            }
                        }
                    initCommand("ATI", [this](const Reply &r) {
                        // ATI: "SIM800 R14.18"; fills the model when +CGMM said nothing.
                        if (r.ok() && !r.lines.isEmpty() && info.model.isEmpty())
                            info.model = infoText(r.lines.first(), "ATI");
                        stepNetwork();
                    });
                });
            });
        });
    });
}

void ModemEngine::Private::applyRegistration(const QByteArray &line) {
    if (const auto reg = at::parseCreg(line); reg && reg->stat >= 0)
        info.registration = reg->stat;
}

void ModemEngine::Private::stepNetwork() {
    setState(ModemState::Initialising, QStringLiteral("checking the network"));
    initCommand("AT+COPS=3,0", [this](const Reply &) {   // long alphanumeric operator names
        initCommand("AT+CREG?", [this](const Reply &r) {
            applyRegistration(r.firstLine("+CREG"));
            initCommand("AT+CSQ", [this](const Reply &r) {
                if (const auto q = at::parseCsq(r.firstLine("+CSQ")))
                    info.signalDbm = q->dbm;
                initCommand("AT+COPS?", [this](const Reply &r) {
                    if (const auto op = at::parseCops(r.firstLine("+COPS")))
                        info.operatorName = op->left(64);
                    smsClock.restart();
                    publishInfo();
                    stepCmgf();
                });
            });
        });
    });
}

// AT+CMGF=0 fails until the module printed "SMS Ready" (SIM800): retry with the back-off,
// at once when the URC comes, until readyTimeoutMs.
void ModemEngine::Private::stepCmgf() {
    setState(ModemState::Initialising, QStringLiteral("switching to PDU mode"));
    initCommand("AT+CMGF=0", [this](const Reply &r) {
        if (r.ok()) {
            smsReadyWaiter = nullptr;
            stepCpms();
            return;
        }
        if (smsClock.elapsed() >= config.readyTimeoutMs) {
            connectionLost(QStringLiteral("SMS not ready after %1 s (AT+CMGF=0: %2)")
                               .arg(config.readyTimeoutMs / 1000.0, 0, 'g', 3).arg(r.errorText()));
            return;
        }
        setState(ModemState::Initialising, QStringLiteral("waiting for \"SMS Ready\" (AT+CMGF=0: %1)").arg(r.errorText()));
        const int delay = qMin<qint64>(busyDelayMs, config.readyTimeoutMs - smsClock.elapsed());
        busyDelayMs = qMin(busyDelayMs * 2, qMin(kMaxBusyBackoffMs, qMax(8 * config.simBusyRetryMs, 10)));
        const quint64 gen = generation;
        auto retry = std::make_shared<bool>(false);
        auto again = [this, gen, retry] {
            if (gen != generation || *retry)
                return;
            *retry = true;
            smsReadyWaiter = nullptr;
            stepCmgf();
        };
        smsReadyWaiter = again;
        QTimer::singleShot(int(qMax<qint64>(delay, 1)), q, again);
    });
}

void ModemEngine::Private::stepCpms() {
    setState(ModemState::Initialising, QStringLiteral("choosing the message storage"));
    initCommand("AT+CPMS=?", [this](const Reply &r) {
        const QList<QStringList> offered = r.ok() ? at::parseCpmsTest(r.firstLine("+CPMS")) : QList<QStringList>();
        setCpms(offered);
    });
}

void ModemEngine::Private::applyCpmsUse(const QByteArray &line) {
    const QList<at::StorageUse> use = at::parseCpms(line);
    if (use.isEmpty())
        return;
    if (!use.first().memory.isEmpty()) {
        info.storage = use.first().memory;
        mem1 = use.first().memory;
        if (readMemory.isEmpty())
            readMemory = mem1;
    }
    info.storageUsed = use.first().used;
    info.storageTotal = use.first().total;
}

void ModemEngine::Private::setCpms(const QList<QStringList> &offered) {
    QList<QByteArray> args;
    for (int i = 0; i < qMin(3, int(offered.size())); ++i) {
        const QString m = pickMemory(offered.at(i));
        const auto a = at::quoted(m);
        if (m.isEmpty() || !a)
            break;
        args.append(*a);
    }
    mem1Options = offered.isEmpty() ? QStringList() : offered.first();
    if (args.isEmpty()) {
        // Nothing advertised (Nokia S60 answers empty lists): use what is set.
        queryCpms([this] { stepCnmi(); });
        return;
    }
    const QString chosen = pickMemory(offered.first());
    initCommand("AT+CPMS=" + args.join(','), [this, chosen](const Reply &r) {
        if (r.ok()) {
            mem1 = chosen;
            readMemory = chosen;
            info.storage = chosen;
            applyCpmsUse(r.firstLine("+CPMS"));
            stepCnmi();
        } else {
            queryCpms([this] { stepCnmi(); });
        }
    });
}

void ModemEngine::Private::queryCpms(std::function<void()> next) {
    initCommand("AT+CPMS?", [this, next](const Reply &r) {
        applyCpmsUse(r.firstLine("+CPMS"));
        if (readMemory.isEmpty()) {
            readMemory = QStringLiteral("SM");
            info.storage = readMemory;
            mem1 = readMemory;
        }
        next();
    });
}

void ModemEngine::Private::stepCnmi() {
    setState(ModemState::Initialising, QStringLiteral("enabling new-message indications"));
    initCommand("AT+CNMI=?", [this](const Reply &r) {
        QList<QByteArray> candidates;
        if (r.ok()) {
            const QByteArray chosen = at::chooseCnmi(at::parseCnmiTest(r.firstLine("+CNMI")));
            if (!chosen.isEmpty())
                candidates << chosen;
        }
        // Unusable test answer: the common choices; the sweep is the backstop anyway.
        for (const char *c : {"2,1,0,2,0", "2,1,0,1,0", "2,1,0,0,0", "1,1,0,0,0"})
            if (!candidates.contains(c))
                candidates << QByteArray(c);
        tryCnmi(candidates);
    });
}

void ModemEngine::Private::tryCnmi(QList<QByteArray> candidates) {
    if (candidates.isEmpty()) {
        stepCsca();   // no indications: found by the periodic sweep only
        return;
    }
    const QByteArray value = candidates.takeFirst();
    initCommand("AT+CNMI=" + value, [this, candidates](const Reply &r) {
        if (r.ok())
            stepCsca();
        else
            tryCnmi(candidates);
    });
}

void ModemEngine::Private::stepCsca() {
    initCommand("AT+CSCA?", [this](const Reply &r) {
        if (const auto smsc = at::parseCsca(r.firstLine("+CSCA")))
            info.smsc = *smsc;
        initCommand("AT+CLIP=1", [this](const Reply &r) {
            clip = r.ok();
            becomeReady();
        });
    });
}

void ModemEngine::Private::becomeReady() {
    QStringList parts;
    if (!info.model.isEmpty())
        parts << info.model;
    if (info.registration >= 0)
        parts << at::registrationText(info.registration);
    if (info.signalDbm)
        parts << QStringLiteral("%1 dBm").arg(*info.signalDbm);
    setState(ModemState::Ready, parts.join(QStringLiteral(", ")));
    publishInfo();
    refreshTimer.start(kRefreshMs);
    sweepTimer.start(qMax(config.sweepIntervalMs, 1000));
    const auto deletes = std::exchange(pendingDeletes, {});
    for (const auto &d : deletes)
        queueDelete(d.first, d.second);
    if (state == ModemState::Ready)
        runSweep();
}

// =====================================================================================
// messages

void ModemEngine::Private::refresh() {
    if (state != ModemState::Ready)
        return;
    if (const QString where = systemLocation(config.port); port && !where.isEmpty() && !QFileInfo::exists(where)) {
        connectionLost(QStringLiteral("port %1 disappeared").arg(config.port));
        return;
    }
    if (current || !queue.empty())
        return;   // busy: next minute
    Command creg;
    creg.line = "AT+CREG?";
    creg.timeoutMs = config.commandTimeoutMs;
    creg.done = [this](const Reply &r) {
        if (r.ok())
            applyRegistration(r.firstLine("+CREG"));
    };
    enqueue(std::move(creg));
    Command csq;
    csq.line = "AT+CSQ";
    csq.timeoutMs = config.commandTimeoutMs;
    csq.done = [this](const Reply &r) {
        if (r.ok())
            if (const auto s = at::parseCsq(r.firstLine("+CSQ")))
                info.signalDbm = s->dbm;
    };
    enqueue(std::move(csq));
    Command cops;
    cops.line = "AT+COPS?";
    cops.timeoutMs = config.commandTimeoutMs;
    cops.done = [this](const Reply &r) {
        if (r.ok())
            if (const auto op = at::parseCops(r.firstLine("+COPS")))
                info.operatorName = op->left(64);
    };
    enqueue(std::move(cops));
    Command cpms;
    cpms.line = "AT+CPMS?";
    cpms.timeoutMs = config.commandTimeoutMs;
    cpms.done = [this](const Reply &r) {
        if (r.ok())
            applyCpmsUse(r.firstLine("+CPMS"));
        if (state == ModemState::Ready)
            publishInfo();
    };
    enqueue(std::move(cpms));
}

void ModemEngine::Private::readStored(const QString &memory, int index, bool report) {
    if (index < 0)
        return;
    Command c;
    c.line = "AT+CMGR=" + QByteArray::number(index);
    c.timeoutMs = config.commandTimeoutMs;
    c.memory = memory.isEmpty() ? readMemory : memory;
    c.done = [this, memory = c.memory, index, report](const Reply &r) {
        if (!r.ok()) {
            // +CMS 321 / 500: empty index (some modems); anything else: the sweep retries.
            return;
        }
        for (int i = 0; i < r.lines.size(); ++i) {
            const auto header = at::parseCmgr(r.lines.at(i));
            if (!header)
                continue;
            if (i + 1 >= r.lines.size())
                return;
            const auto bytes = hexLine(r.lines.at(i + 1));
            if (!bytes)
                return;
            deliverStored(memory, index, header->stat, withSmscField(*bytes, header->length), report);
            return;
        }
        // OK without data: empty index.
    };
    enqueue(std::move(c));
}

// One stored PDU read by +CMGR or listed by +CMGL: a status report (then deleted here, it
// has done its job) or a message (the owner deletes it once stored).
void ModemEngine::Private::deliverStored(const QString &memory, int index, int stat, const QByteArray &pdu, bool report) {
    const int mti = messageTypeIndicator(pdu);
    if (stat == 2 || stat == 3 || mti == 1)
        return;   // STO UNSENT / STO SENT: our own drafts, not received messages
    ReceivedPdu m;
    m.memory = memory;
    m.index = index;
    m.stat = stat;
    m.pdu = pdu;
    if (report || mti == 2) {
        emit q->statusReportReceived(m);
        queueDelete(memory, index);
    } else {
        emit q->messageReceived(m);
    }
}

void ModemEngine::Private::queueDelete(const QString &memory, int index) {
    const QString mem = memory.isEmpty() ? readMemory : memory;
    if (state != ModemState::Ready || !port) {
        const QPair<QString, int> key(memory, index);
        if (!pendingDeletes.contains(key))
            pendingDeletes.append(key);
        return;
    }
    Command c;
    c.line = "AT+CMGD=" + QByteArray::number(index);
    // The same delete already waiting (the owner deleting a report the engine deletes too):
    // a second one, later, could remove a new message the modem stored in the freed slot.
    auto same = [&](const Command &o) { return o.line == c.line && o.memory == mem; };
    if ((current && same(*current)) || std::any_of(queue.begin(), queue.end(), same))
        return;
    c.timeoutMs = config.commandTimeoutMs;
    c.memory = mem;
    c.done = [this, memory, index](const Reply &r) {
        if (r.aborted) {
            const QPair<QString, int> key(memory, index);
            if (!pendingDeletes.contains(key))
                pendingDeletes.append(key);
        }
        // An error (already gone, index out of range) leaves nothing to do; a message that
        // stays is reported again by the next sweep.
    };
    enqueue(std::move(c));
}

void ModemEngine::Private::runSweep() {
    if (state != ModemState::Ready || sweeping)
        return;
    sweeping = true;
    const bool withReports = mem1Options.contains(QLatin1String("SR")) && readMemory != QLatin1String("SR");
    listMemory(readMemory, [this, withReports] {
        if (!withReports) {
            sweeping = false;
            return;
        }
        listMemory(QStringLiteral("SR"), [this] { sweeping = false; });
    });
}

void ModemEngine::Private::listMemory(const QString &memory, std::function<void()> next) {
    Command c;
    c.line = "AT+CMGL=4";
    c.timeoutMs = config.listTimeoutMs;
    c.memory = memory;
    c.done = [this, memory, next](const Reply &r) {
        if (r.aborted)
            return;
        if (r.ok()) {
            const quint64 gen = generation;
            for (int i = 0; i + 1 < r.lines.size(); ++i) {
                const auto header = at::parseCmgl(r.lines.at(i));
                if (!header)
                    continue;
                const auto bytes = hexLine(r.lines.at(i + 1));
                if (!bytes)
                    continue;
                ++i;
                deliverStored(memory, header->index, header->stat, withSmscField(*bytes, header->length),
                              memory == QLatin1String("SR"));
                if (gen != generation)
                    return;
            }
        }
        next();
    };
    enqueue(std::move(c));
}

void ModemEngine::Private::sendPart(quint64 jobId, bool front) {
    auto it = jobs.find(jobId);
    if (it == jobs.end())
        return;
    const SendJob &job = it->second;
    const int part = int(job.references.size());
    const QByteArray &pdu = job.pdus.at(part);
    const QByteArray hex = pdu.toHex().toUpper();
    Command c;
    c.line = "AT+CMGS=" + QByteArray::number(job.lengths.at(part));
    c.timeoutMs = config.sendTimeoutMs;
    c.payload = hex + kCtrlZ;
    c.payloadLog = (hex.size() > 24 ? hex.left(24) + "..." : hex) + " (" + QByteArray::number(pdu.size())
                   + " octets) <Ctrl-Z>";
    c.payloadTimeoutMs = config.sendTimeoutMs;
    const int parts = int(job.pdus.size());
    c.done = [this, jobId, part, parts](const Reply &r) {
        const QString which = parts > 1 ? QStringLiteral("part %1/%2: ").arg(part + 1).arg(parts) : QString();
        if (r.aborted) {
            finishJob(jobId, which + QStringLiteral("modem connection lost while sending"), true);
            return;
        }
        if (r.timedOut) {
            finishJob(jobId, which + QStringLiteral("no answer to AT+CMGS within %1 s")
                                         .arg(config.sendTimeoutMs / 1000.0, 0, 'g', 3), true);
            return;
        }
        if (!r.ok()) {
            finishJob(jobId, which + r.final->text, transientFinal(*r.final));
            return;
        }
        auto it = jobs.find(jobId);
        if (it == jobs.end())
            return;
        const auto mr = at::parseCmgs(r.firstLine("+CMGS"));
        it->second.references.append(mr ? *mr : -1);
        if (it->second.references.size() < it->second.pdus.size())
            sendPart(jobId, true);   // the next part before anything else queued
        else
            finishJob(jobId, QString(), false);
    };
    enqueue(std::move(c), front);
}

void ModemEngine::Private::finishJob(quint64 jobId, const QString &error, bool retryable) {
    auto it = jobs.find(jobId);
    if (it == jobs.end())
        return;
    const QList<int> refs = it->second.references;
    jobs.erase(it);
    emit q->sendFinished(jobId, refs, error, error.isEmpty() ? false : retryable);
}

// =====================================================================================
// public API

ModemEngine::ModemEngine(QObject *parent) : QObject(parent), d(std::make_unique<Private>(this)) {
    qRegisterMetaType<td::modem::ModemState>();
    qRegisterMetaType<td::modem::ModemInfo>();
    qRegisterMetaType<td::modem::ReceivedPdu>();
    connect(&d->commandTimer, &QTimer::timeout, this, [this] { d->onCommandTimeout(); });
    connect(&d->reconnectTimer, &QTimer::timeout, this, [this] {
        if (d->state == ModemState::Reconnecting)
            d->openPort();
    });
    connect(&d->refreshTimer, &QTimer::timeout, this, [this] { d->refresh(); });
    connect(&d->sweepTimer, &QTimer::timeout, this, [this] { d->runSweep(); });
    connect(&d->hangupTimer, &QTimer::timeout, this, [this] { d->checkHangup(); });
}

ModemEngine::~ModemEngine() {
    // Nobody listens any more (the owner is being destroyed): no signals from here.
    blockSignals(true);
    close();
}

void ModemEngine::open(const ModemConfig &config) {
    close();
    d->config = config;
    d->config.commandTimeoutMs = qMax(config.commandTimeoutMs, 1);
    d->config.sendTimeoutMs = qMax(config.sendTimeoutMs, 1);
    d->config.listTimeoutMs = qMax(config.listTimeoutMs, 1);
    if (config.port.trimmed().isEmpty()) {
        d->setState(ModemState::Closed, QStringLiteral("no modem port configured"));
        return;
    }
    d->openPort();
}

void ModemEngine::close() {
    d->reconnectTimer.stop();
    d->refreshTimer.stop();
    d->sweepTimer.stop();
    d->dropPort();
    d->pendingDeletes.clear();
    d->setState(ModemState::Closed, QString());
    d->abortAll(QStringLiteral("modem closed"));
}

ModemState ModemEngine::state() const { return d->state; }
QString ModemEngine::stateDetail() const { return d->detail; }
ModemInfo ModemEngine::info() const { return d->info; }
ModemConfig ModemEngine::config() const { return d->config; }

quint64 ModemEngine::sendSms(const QList<QByteArray> &pdus, const QList<int> &tpduLengths) {
    if (d->state != ModemState::Ready)
        return 0;
    const quint64 id = ++d->lastJob;
    QString invalid;
    if (pdus.isEmpty())
        invalid = QStringLiteral("nothing to send (no PDU)");
    else if (pdus.size() != tpduLengths.size())
        invalid = QStringLiteral("%1 PDUs but %2 lengths").arg(pdus.size()).arg(tpduLengths.size());
    else if (pdus.size() > kMaxParts)
        invalid = QStringLiteral("too many parts (%1)").arg(pdus.size());
    for (int i = 0; invalid.isEmpty() && i < pdus.size(); ++i) {
        const QByteArray &p = pdus.at(i);
        const int len = tpduLengths.at(i);
        const int smsc = p.isEmpty() ? 0 : quint8(p.at(0));
        if (p.isEmpty() || p.size() > kMaxPduBytes || smsc > 12 || len <= 0 || 1 + smsc + len != p.size())
            invalid = QStringLiteral("part %1: invalid PDU (%2 octets, TPDU length %3)").arg(i + 1).arg(p.size()).arg(len);
    }
    SendJob job;
    job.id = id;
    job.pdus = pdus;
    job.lengths = tpduLengths;
    d->jobs.emplace(id, job);
    if (!invalid.isEmpty()) {
        // The caller gets its id first; the answer follows like any other.
        QTimer::singleShot(0, this, [this, id, invalid] { d->finishJob(id, invalid, false); });
        return id;
    }
    d->sendPart(id, false);
    return id;
}

void ModemEngine::deleteMessage(const QString &memory, int index) {
    if (index < 0)
        return;
    d->queueDelete(memory, index);
}

void ModemEngine::sweep() { d->runSweep(); }

} // namespace td::modem
