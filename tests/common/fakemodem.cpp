// The fake SIM800: see fakemodem.h for what it does. One table of commands (name ->
// handler), each handler answering like the real module would.
#include "fakemodem.h"

#include "trackerdesk/protocol/atline.h"

#include <QDir>
#include <QFile>
#include <QSocketNotifier>
#include <QTimeZone>
#include <QTimer>

#include <cerrno>
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

namespace td::test {

namespace at = td::proto::at;
namespace pdu = td::proto::pdu;

namespace {

constexpr int kMaxInput = 2048;          // a command line / PDU input longer than this is dropped
constexpr int kMaxOutput = 1 << 20;      // nobody reads: drop instead of growing forever
constexpr char kCtrlZ = '\x1A';
constexpr char kEsc = '\x1B';

int linkCounter = 0;

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

// "\"SM\",\"ME\"" -> {"SM","ME"}; nullopt on junk.
std::optional<QStringList> quotedList(const QByteArray &args) {
    QStringList out;
    for (const QByteArray &part : args.split(',')) {
        const QByteArray t = part.trimmed();
        if (t.size() < 3 || !t.startsWith('"') || !t.endsWith('"'))
            return std::nullopt;
        out << QString::fromLatin1(t.mid(1, t.size() - 2));
    }
    return out;
}

std::optional<int> number(const QByteArray &s) {
    bool ok = false;
    const int v = s.trimmed().toInt(&ok);
    if (!ok)
        return std::nullopt;
    return v;
}

int tpduLength(const QByteArray &pduWithSmsc) {
    if (pduWithSmsc.isEmpty())
        return 0;
    return int(pduWithSmsc.size()) - 1 - quint8(pduWithSmsc.at(0));
}

} // namespace

FakeModem::FakeModem(const FakeModemOptions &options, QObject *parent) : QObject(parent), m_options(options) {
    m_puk = options.simPuk;
    m_clock.start();
}

FakeModem::~FakeModem() { closePty(); }

bool FakeModem::start(QString *error) {
    if (!m_dir.isValid()) {
        if (error)
            *error = QStringLiteral("cannot create a temporary folder: %1").arg(m_dir.errorString());
        return false;
    }
    m_linkPath = m_dir.filePath(QStringLiteral("ttyFAKE%1").arg(++linkCounter));
    if (!openPty(error))
        return false;
    powerOn(false);
    return true;
}

// ---- pty ----

bool FakeModem::openPty(QString *error) {
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
        if (error)
            *error = QStringLiteral("openpty: %1").arg(QString::fromLocal8Bit(strerror(errno)));
        return false;
    }
    termios t{};
    if (::tcgetattr(slave, &t) == 0) {
        ::cfmakeraw(&t);
        ::tcsetattr(slave, TCSANOW, &t);
    }
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave, F_SETFD, FD_CLOEXEC);
    char name[256] = {};
    if (::ttyname_r(slave, name, sizeof name) != 0) {
        ::close(master);
        ::close(slave);
        if (error)
            *error = QStringLiteral("ttyname_r failed");
        return false;
    }
    // Atomic replace: a new symlink under a temporary name, renamed over the old one.
    const QString tmp = m_linkPath + QStringLiteral(".new");
    QFile::remove(tmp);
    if (::symlink(name, QFile::encodeName(tmp).constData()) != 0
        || ::rename(QFile::encodeName(tmp).constData(), QFile::encodeName(m_linkPath).constData()) != 0) {
        const QString why = QString::fromLocal8Bit(strerror(errno));
        ::close(master);
        ::close(slave);
        if (error)
            *error = QStringLiteral("symlink %1 -> %2: %3").arg(m_linkPath, QString::fromLatin1(name), why);
        return false;
    }
    m_master = master;
    m_slave = slave;   // kept open: the master never sees EIO while the engine reopens
    m_readNotifier = new QSocketNotifier(m_master, QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, [this] { onReadable(); });
    m_writeNotifier = new QSocketNotifier(m_master, QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, [this] { onWritable(); });
    return true;
}

void FakeModem::closePty() {
    ++m_plugGeneration;
    delete m_readNotifier;
    delete m_writeNotifier;
    m_readNotifier = m_writeNotifier = nullptr;
    if (m_master >= 0)
        ::close(m_master);
    if (m_slave >= 0)
        ::close(m_slave);
    m_master = m_slave = -1;
    m_out.clear();
    m_in.clear();
    m_inPrompt = false;
    m_deferredUrcs.clear();
    if (!m_linkPath.isEmpty())
        QFile::remove(m_linkPath);
}

void FakeModem::unplug() { closePty(); }

bool FakeModem::replug(QString *error) {
    if (m_master >= 0)
        closePty();
    if (!openPty(error))
        return false;
    powerOn(true);
    return true;
}

void FakeModem::later(int ms, std::function<void()> f) {
    QTimer::singleShot(qMax(ms, 0), this, [this, gen = m_plugGeneration, f = std::move(f)] {
        if (gen == m_plugGeneration)
            f();
    });
}

void FakeModem::onReadable() {
    if (m_master < 0)
        return;
    char buf[4096];
    const ssize_t n = ::read(m_master, buf, sizeof buf);
    if (n <= 0)
        return;
    if (m_muted)
        return;
    const quint64 gen = m_plugGeneration;
    for (ssize_t i = 0; i < n && gen == m_plugGeneration; ++i) {
        const char c = buf[i];
        if (m_inPrompt) {
            if (c == kCtrlZ) {
                const QByteArray hex = std::exchange(m_in, {});
                m_inPrompt = false;
                handlePdu(hex);
            } else if (c == kEsc) {
                m_in.clear();
                m_inPrompt = false;
                write(std::exchange(m_deferredUrcs, {}));
            } else if (m_in.size() < kMaxInput) {
                m_in.append(c);   // hex (anything else is judged at Ctrl-Z)
            }
            continue;
        }
        if (c == '\r' || c == '\n') {
            if (m_in.isEmpty())
                continue;
            const QByteArray line = std::exchange(m_in, {});
            if (m_echo)
                write(line + '\r');
            handleCommand(line);
        } else if (c == kCtrlZ || c == kEsc) {
            m_in.clear();
        } else if (m_in.size() < kMaxInput) {
            m_in.append(c);
        } else {
            m_in.clear();
        }
    }
}

void FakeModem::onWritable() {
    while (m_master >= 0 && !m_out.isEmpty()) {
        const ssize_t n = ::write(m_master, m_out.constData(), size_t(m_out.size()));
        if (n > 0) {
            m_out.remove(0, int(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        m_out.clear();   // EIO: nobody on the other side
        break;
    }
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(!m_out.isEmpty());
}

void FakeModem::write(const QByteArray &bytes) {
    if (m_master < 0 || bytes.isEmpty())
        return;
    if (m_out.size() + bytes.size() > kMaxOutput)
        return;
    m_out.append(bytes);
    onWritable();
}

void FakeModem::sendRaw(const QByteArray &bytes) { write(bytes); }
void FakeModem::sendUrc(const QByteArray &line) { urc(line); }

void FakeModem::urc(const QByteArray &text) {
    const QByteArray bytes = "\r\n" + text + "\r\n";
    if (m_inPrompt)
        m_deferredUrcs.append(bytes);
    else
        write(bytes);
}

void FakeModem::reply(const QList<QByteArray> &lines, const QByteArray &final) {
    QByteArray out;
    const QByteArray inject = std::exchange(m_inject, {});
    if (!lines.isEmpty()) {
        out += "\r\n";
        for (int i = 0; i < lines.size(); ++i) {
            out += lines.at(i) + "\r\n";
            if (i == 0 && !inject.isEmpty())
                out += "\r\n" + inject + "\r\n";
        }
    } else if (!inject.isEmpty()) {
        out += "\r\n" + inject + "\r\n";
    }
    if (!final.isEmpty())
        out += "\r\n" + final + "\r\n";
    write(out);
}

// ---- modem state ----

void FakeModem::powerOn(bool printBoot) {
    ++m_boots;
    m_echo = m_options.echo;
    m_cmee = 0;
    m_cfun = m_options.cfunAtStart;
    m_cnmiSet.clear();
    m_cpmsSet.clear();
    m_mem1 = m_mem2 = m_mem3 = QStringLiteral("SM");
    m_simLocked = !m_options.pin.isEmpty() || m_puk;
    m_simReadyAt = -1;
    m_smsReadyPrinted = false;
    m_inPrompt = false;
    m_in.clear();
    if (printBoot) {
        write(QByteArrayLiteral("\r\nRDY\r\n"));
        urc("+CFUN: 1");
        urc(!m_options.simInserted ? QByteArrayLiteral("+CPIN: NOT INSERTED")
            : m_puk                ? QByteArrayLiteral("+CPIN: SIM PUK")
            : m_simLocked          ? QByteArrayLiteral("+CPIN: SIM PIN")
                                   : QByteArrayLiteral("+CPIN: READY"));
    }
    if (m_options.simInserted && !m_simLocked) {
        // A modem that has been on for a while prints nothing; one that boots does.
        if (printBoot || m_options.smsReadyDelayMs > 0 || m_options.simBusyMs > 0)
            simReady();
        else {
            m_simReadyAt = -1000000;
            m_smsReadyPrinted = true;
        }
    }
}

void FakeModem::simReady() {
    m_simReadyAt = m_clock.elapsed();
    later(m_options.smsReadyDelayMs, [this] {
        urc("Call Ready");
        urc("SMS Ready");
        m_smsReadyPrinted = true;
        flushNetwork();
    });
}

bool FakeModem::smsReadyNow() const {
    return m_simReadyAt != -1 && m_clock.elapsed() >= m_simReadyAt + m_options.smsReadyDelayMs;
}

bool FakeModem::busyNow() const {
    return m_simReadyAt != -1 && m_clock.elapsed() < m_simReadyAt + m_options.simBusyMs;
}

void FakeModem::reset() {
    ++m_plugGeneration;   // answers in the making are lost with the reboot
    m_out.clear();
    m_deferredUrcs.clear();
    powerOn(true);
}

QByteArray FakeModem::error(int cms) const {
    return m_cmee ? QByteArrayLiteral("+CMS ERROR: ") + QByteArray::number(cms) : QByteArrayLiteral("ERROR");
}

QList<QStringList> FakeModem::cpmsOffer() const { return at::parseCpmsTest(m_options.cpmsTest); }
QList<QList<int>> FakeModem::cnmiOffer() const { return at::parseCnmiTest(m_options.cnmiTest); }

int FakeModem::cnmiValue(int i) const {
    const QList<QByteArray> v = m_cnmiSet.split(',');
    if (m_cnmiSet.isEmpty() || i >= v.size())
        return 0;   // power-on default 0,0,0,0,0
    return v.at(i).trimmed().toInt();
}

QString FakeModem::canonicalMemory(const QString &memory) const {
    if (memory == QLatin1String("SR")) {
        for (const QStringList &l : cpmsOffer())
            if (l.contains(QLatin1String("SR")))
                return memory;
    }
    return QStringLiteral("SM");   // ME, MT, SM_P...: one store in this fake
}

FakeModem::Storage &FakeModem::storage(const QString &memory) {
    const QString m = canonicalMemory(memory);
    Storage &s = m_storages[m];
    if (s.cells.size() != m_options.storageSlots)
        s.cells.resize(qMax(m_options.storageSlots, 0));
    return s;
}

const FakeModem::Storage *FakeModem::findStorage(const QString &memory) const {
    const auto it = m_storages.constFind(canonicalMemory(memory));
    return it == m_storages.cend() ? nullptr : &*it;
}

int FakeModem::storeIn(const QString &memory, const Slot &slot) {
    Storage &s = storage(memory);
    for (int i = 0; i < s.cells.size(); ++i)
        if (!s.cells.at(i)) {
            s.cells[i] = slot;
            return i + 1;
        }
    return -1;
}

int FakeModem::used(const QString &memory) const {
    const Storage *s = findStorage(memory);
    if (!s)
        return 0;
    int n = 0;
    for (const auto &slot : s->cells)
        n += slot.has_value();
    return n;
}

std::optional<FakeModem::Slot> FakeModem::slot(int index, const QString &memory) const {
    const Storage *s = findStorage(memory);
    if (!s || index < 1 || index > s->cells.size())
        return std::nullopt;
    return s->cells.at(index - 1);
}

int FakeModem::count(const QByteArray &prefix) const {
    int n = 0;
    for (const QByteArray &c : m_commands)
        n += c.toUpper().startsWith(prefix.toUpper());
    return n;
}

QByteArray FakeModem::lastCommand(const QByteArray &prefix) const {
    for (auto it = m_commands.crbegin(); it != m_commands.crend(); ++it)
        if (it->toUpper().startsWith(prefix.toUpper()))
            return *it;
    return {};
}

// ---- network side ----

QByteArray FakeModem::deliverPdu(const QString &from, const QString &text, const QDateTime &when) {
    pdu::Sms s;
    s.type = pdu::PduType::Deliver;
    s.smsc = pdu::Address::fromUser(QStringLiteral("+491710760000")).value_or(pdu::Address());
    s.address = pdu::Address::fromUser(from).value_or(pdu::Address{from, 0x81});
    s.encoding = pdu::isGsm7(text) ? pdu::Encoding::Gsm7 : pdu::Encoding::Ucs2;
    s.dcs = s.encoding == pdu::Encoding::Gsm7 ? 0x00 : 0x08;
    s.timestamp = when.isValid() ? when : QDateTime::currentDateTime(QTimeZone::fromSecondsAheadOfUtc(3600));
    s.text = text;
    return pdu::encodeDeliver(s);
}

int FakeModem::deliverText(const QString &from, const QString &text) { return deliver(deliverPdu(from, text)); }

int FakeModem::deliver(const QByteArray &deliverPdu) {
    if (m_master < 0 || !smsReadyNow()) {   // off / not registered: the network holds it
        m_network.append(deliverPdu);
        return -1;
    }
    if (cnmiValue(1) == 2) {
        urc("+CMT: ," + QByteArray::number(tpduLength(deliverPdu)) + "\r\n" + deliverPdu.toHex().toUpper());
        return 0;
    }
    const int index = storeIn(m_mem3, Slot{0, deliverPdu});
    if (index < 0) {
        m_network.append(deliverPdu);
        return -1;
    }
    if (cnmiValue(1) == 1 || cnmiValue(1) == 3)
        urc("+CMTI: \"" + canonicalMemory(m_mem3).toLatin1() + "\"," + QByteArray::number(index));
    return index;
}

void FakeModem::flushNetwork() {
    while (!m_network.isEmpty() && m_master >= 0 && smsReadyNow()) {
        const QByteArray next = m_network.first();
        const int before = int(m_network.size());
        m_network.removeFirst();
        if (deliver(next) < 0 && int(m_network.size()) >= before) {
            // still full: deliver() put it back at the end; restore the order and stop
            m_network.move(m_network.size() - 1, 0);
            break;
        }
    }
}

int FakeModem::store(const QByteArray &pdu, int stat, const QString &memory) {
    return storeIn(memory, Slot{stat, pdu});
}

void FakeModem::statusReport(int mr, quint8 status, const QString &recipient) {
    pdu::Sms s;
    s.type = pdu::PduType::StatusReport;
    s.smsc = pdu::Address::fromUser(m_options.smsc).value_or(pdu::Address());
    s.messageReference = quint8(mr);
    s.address = pdu::Address::fromUser(recipient).value_or(pdu::Address{recipient, 0x81});
    s.timestamp = QDateTime::currentDateTime(QTimeZone::fromSecondsAheadOfUtc(3600));
    s.dischargeTime = s.timestamp.addSecs(2);
    s.status = status;
    const QByteArray bytes = pdu::encodeStatusReport(s);
    const int ds = cnmiValue(3);
    if (ds == 1) {
        urc("+CDS: " + QByteArray::number(tpduLength(bytes)) + "\r\n" + bytes.toHex().toUpper());
    } else if (ds == 2) {
        const QString mem = canonicalMemory(QStringLiteral("SR"));
        const int index = storeIn(mem, Slot{0, bytes});
        if (index > 0)
            urc("+CDSI: \"" + mem.toLatin1() + "\"," + QByteArray::number(index));
    }
}

// ---- faults ----

void FakeModem::addErrorRule(const QByteArray &prefix, const QByteArray &reply, int times, bool beforePrompt) {
    m_rules.append(Rule{prefix.toUpper(), reply, times, beforePrompt});
}

std::optional<FakeModem::Rule> FakeModem::takeRule(const QByteArray &line, bool cmgs, bool beforePrompt) {
    const QByteArray upper = line.trimmed().toUpper();
    for (int i = 0; i < m_rules.size(); ++i) {
        Rule &r = m_rules[i];
        if (!upper.startsWith(r.prefix) || (cmgs && r.beforePrompt != beforePrompt))
            continue;
        const Rule out = r;
        if (r.times > 0 && --r.times == 0)
            m_rules.removeAt(i);
        return out;
    }
    return std::nullopt;
}

// ---- commands ----

void FakeModem::handleCommand(const QByteArray &raw) {
    const QByteArray line = raw.trimmed();
    m_commands.append(line);
    emit commandReceived(line);
    const QByteArray upper = line.toUpper();
    if (!upper.startsWith("AT"))
        return;   // line noise: a real module ignores it
    const bool cmgs = upper.startsWith("AT+CMGS") || upper.startsWith("AT+CMGW");
    if (const auto rule = takeRule(line, cmgs, true)) {
        if (!rule->reply.isEmpty())
            reply({}, rule->reply);
        return;
    }

    // Split "AT+CPMS=?" into name "+CPMS", kind and arguments.
    enum Kind { Exec, Read, Test, Set };
    QByteArray name, args;
    Kind kind = Exec;
    const QByteArray body = line.mid(2);
    if (body.startsWith('+') || body.startsWith('^')) {
        int end = 1;
        while (end < body.size() && body.at(end) != '=' && body.at(end) != '?')
            ++end;
        name = body.left(end).toUpper();
        const QByteArray rest = body.mid(end);
        if (rest == "?")
            kind = Read;
        else if (rest == "=?")
            kind = Test;
        else if (rest.startsWith('=')) {
            kind = Set;
            args = rest.mid(1);
        } else if (!rest.isEmpty()) {
            reply({}, QByteArrayLiteral("ERROR"));
            return;
        }
    } else {
        name = body.toUpper();   // "", "E0", "I", "Z", "H", "&F"
    }

    using Handler = std::function<void(FakeModem *, Kind, const QByteArray &)>;
    auto ok = [](FakeModem *m) { m->reply({}); };
    // Guards shared by the SMS commands: SIM present and unlocked, not busy, SMS Ready.
    auto smsGate = [](FakeModem *m) -> bool {
        if (!m->m_options.simInserted) {
            m->reply({}, m->m_cmee ? QByteArrayLiteral("+CMS ERROR: 310") : QByteArrayLiteral("ERROR"));
            return false;
        }
        if (m->m_simLocked) {
            m->reply({}, m->m_cmee ? QByteArrayLiteral("+CMS ERROR: 311") : QByteArrayLiteral("ERROR"));
            return false;
        }
        if (m->busyNow()) {
            m->reply({}, m->m_cmee ? QByteArrayLiteral("+CME ERROR: 14") : QByteArrayLiteral("ERROR"));
            return false;
        }
        if (!m->smsReadyNow()) {
            m->reply({}, QByteArrayLiteral("ERROR"));
            return false;
        }
        return true;
    };
    auto cmeError = [](FakeModem *m, int code) {
        m->reply({}, m->m_cmee ? QByteArrayLiteral("+CME ERROR: ") + QByteArray::number(code) : QByteArrayLiteral("ERROR"));
    };

    static const QHash<QByteArray, Handler> table = {
        {"", [ok](FakeModem *m, Kind, const QByteArray &) { ok(m); }},
        {"E0", [ok](FakeModem *m, Kind, const QByteArray &) { m->m_echo = false; ok(m); }},
        {"E1", [ok](FakeModem *m, Kind, const QByteArray &) { m->m_echo = true; ok(m); }},
        {"Z", [ok](FakeModem *m, Kind, const QByteArray &) { m->m_cmee = 0; ok(m); }},
        {"H", [ok](FakeModem *m, Kind, const QByteArray &) { ok(m); }},
        {"I", [](FakeModem *m, Kind, const QByteArray &) { m->reply({QByteArrayLiteral("SIM800 R14.18")}); }},
        {"+CMEE", [ok](FakeModem *m, Kind k, const QByteArray &a) {
             if (k == Read)
                 return m->reply({"+CMEE: " + QByteArray::number(m->m_cmee)});
             const auto v = number(a);
             if (k != Set || !v || *v < 0 || *v > 2)
                 return m->reply({}, QByteArrayLiteral("ERROR"));
             m->m_cmee = *v;
             ok(m);
         }},
        {"+CPIN", [ok, cmeError](FakeModem *m, Kind k, const QByteArray &a) {
             if (!m->m_options.simInserted)
                 return cmeError(m, 10);
             if (k == Read) {
                 if (m->busyNow())
                     return cmeError(m, 14);
                 return m->reply({m->m_puk ? QByteArrayLiteral("+CPIN: SIM PUK")
                                  : m->m_simLocked ? QByteArrayLiteral("+CPIN: SIM PIN")
                                                   : QByteArrayLiteral("+CPIN: READY")});
             }
             if (k != Set)
                 return m->reply({}, QByteArrayLiteral("ERROR"));
             ++m->m_pinAttempts;
             if (m->m_puk)
                 return cmeError(m, 12);
             if (!m->m_simLocked)
                 return cmeError(m, 3);
             const QByteArray given = a.trimmed();
             if (given == '"' + m->m_options.pin.toLatin1() + '"') {
                 m->m_simLocked = false;
                 m->m_pinTries = 3;
                 ok(m);
                 m->urc("+CPIN: READY");
                 m->simReady();
                 return;
             }
             if (--m->m_pinTries <= 0)
                 m->m_puk = true;
             cmeError(m, 16);
         }},
        {"+CFUN", [ok](FakeModem *m, Kind k, const QByteArray &a) {
             if (k == Read)
                 return m->reply({"+CFUN: " + QByteArray::number(m->m_cfun)});
             const auto v = number(a.split(',').first());
             if (k != Set || !v || (*v != 0 && *v != 1 && *v != 4))
                 return m->reply({}, QByteArrayLiteral("ERROR"));
             m->m_cfun = *v;
             ok(m);
         }},
        {"+CGMI", [](FakeModem *m, Kind, const QByteArray &) { m->reply({m->m_options.manufacturer}); }},
        {"+CGMM", [](FakeModem *m, Kind, const QByteArray &) { m->reply({m->m_options.model}); }},
        {"+CGMR", [](FakeModem *m, Kind, const QByteArray &) { m->reply({m->m_options.revision}); }},
        {"+CGSN", [](FakeModem *m, Kind, const QByteArray &) { m->reply({m->m_options.imei}); }},
        {"+CREG", [ok](FakeModem *m, Kind k, const QByteArray &) {
             if (k == Read)
                 return m->reply({"+CREG: 0," + QByteArray::number(m->m_cfun == 1 ? m->m_options.registration : 0)});
             ok(m);
         }},
        {"+CSQ", [](FakeModem *m, Kind, const QByteArray &) {
             m->reply({"+CSQ: " + QByteArray::number(m->m_cfun == 1 ? m->m_options.rssi : 99) + ",0"});
         }},
        {"+COPS", [ok](FakeModem *m, Kind k, const QByteArray &) {
             if (k == Read)
                 return m->reply({m->m_cfun == 1 ? "+COPS: 0,0,\"" + m->m_options.operatorName.toLatin1() + '"'
                                                 : QByteArrayLiteral("+COPS: 0")});
             ok(m);
         }},
        {"+CLIP", [ok](FakeModem *m, Kind, const QByteArray &) { ok(m); }},
        {"+CMGF", [ok, smsGate](FakeModem *m, Kind k, const QByteArray &a) {
             if (!smsGate(m))
                 return;
             if (k == Read)
                 return m->reply({QByteArrayLiteral("+CMGF: 0")});
             if (k == Set && a.trimmed() == "0")
                 return ok(m);
             m->reply({}, QByteArrayLiteral("ERROR"));   // this fake speaks PDU mode only
         }},
        {"+CSCA", [ok, smsGate](FakeModem *m, Kind k, const QByteArray &) {
             if (!smsGate(m))
                 return;
             if (k == Read)
                 return m->reply({"+CSCA: \"" + m->m_options.smsc.toLatin1() + "\",145"});
             ok(m);
         }},
        {"+CPMS", [smsGate](FakeModem *m, Kind k, const QByteArray &a) {
             if (!smsGate(m))
                 return;
             auto use = [m](const QString &mem) {
                 return QByteArray::number(m->used(mem)) + ',' + QByteArray::number(m->m_options.storageSlots);
             };
             if (k == Test)
                 return m->reply({m->m_options.cpmsTest});
             if (k == Read)
                 return m->reply({"+CPMS: \"" + m->m_mem1.toLatin1() + "\"," + use(m->m_mem1) + ",\""
                                  + m->m_mem2.toLatin1() + "\"," + use(m->m_mem2) + ",\"" + m->m_mem3.toLatin1()
                                  + "\"," + use(m->m_mem3)});
             const auto mems = k == Set ? quotedList(a) : std::nullopt;
             const QList<QStringList> offer = m->cpmsOffer();
             if (!mems || mems->isEmpty() || mems->size() > 3)
                 return m->reply({}, m->error(302));
             for (int i = 0; i < mems->size(); ++i)
                 if (i >= offer.size() || !offer.at(i).contains(mems->at(i)))
                     return m->reply({}, m->error(302));
             m->m_mem1 = mems->at(0);
             if (mems->size() > 1)
                 m->m_mem2 = mems->at(1);
             if (mems->size() > 2)
                 m->m_mem3 = mems->at(2);
             m->m_cpmsSet = a.trimmed();
             m->m_cpmsHistory << m->m_cpmsSet;
             m->reply({"+CPMS: " + use(m->m_mem1) + ',' + use(m->m_mem2) + ',' + use(m->m_mem3)});
         }},
        {"+CNMI", [ok, smsGate](FakeModem *m, Kind k, const QByteArray &a) {
             if (!smsGate(m))
                 return;
             if (k == Test)
                 return m->reply({m->m_options.cnmiTest});
             if (k == Read)
                 return m->reply({"+CNMI: " + (m->m_cnmiSet.isEmpty() ? QByteArrayLiteral("0,0,0,0,0") : m->m_cnmiSet)});
             const QList<QList<int>> offer = m->cnmiOffer();
             const QList<QByteArray> values = a.split(',');
             if (k != Set || values.size() > offer.size())
                 return m->reply({}, QByteArrayLiteral("ERROR"));
             for (int i = 0; i < values.size(); ++i) {
                 const auto v = number(values.at(i));
                 if (!v || !offer.at(i).contains(*v))
                     return m->reply({}, QByteArrayLiteral("ERROR"));
             }
             m->m_cnmiSet = a.trimmed();
             ok(m);
         }},
        {"+CMGS", [smsGate](FakeModem *m, Kind k, const QByteArray &a) {
             if (!smsGate(m))
                 return;
             const auto n = number(a);
             if (k != Set || !n || *n < 1)
                 return m->reply({}, m->error(304));
             m->m_inPrompt = true;
             m->m_promptLength = *n;
             m->m_promptCommand = "AT+CMGS=" + a;
             m->write(QByteArrayLiteral("\r\n> "));
         }},
        {"+CMGW", [smsGate](FakeModem *m, Kind k, const QByteArray &a) {
             if (!smsGate(m))
                 return;
             const auto n = number(a.split(',').first());
             if (k != Set || !n || *n < 1)
                 return m->reply({}, m->error(304));
             m->m_inPrompt = true;
             m->m_promptLength = *n;
             m->m_promptCommand = "AT+CMGW=" + a;
             m->write(QByteArrayLiteral("\r\n> "));
         }},
        {"+CMGR", [smsGate](FakeModem *m, Kind k, const QByteArray &a) {
             if (!smsGate(m))
                 return;
             const auto i = number(a);
             Storage &s = m->storage(m->m_mem1);
             if (k != Set || !i || *i < 1 || *i > s.cells.size())
                 return m->reply({}, m->error(321));
             auto &slot = s.cells[*i - 1];
             if (!slot) {
                 const QByteArray r = m->m_options.emptyReadReply;
                 return m->reply({}, r.isEmpty() ? QByteArrayLiteral("OK") : r);
             }
             const QList<QByteArray> lines = {
                 "+CMGR: " + QByteArray::number(slot->stat) + ",," + QByteArray::number(tpduLength(slot->pdu)),
                 slot->pdu.toHex().toUpper()};
             if (slot->stat == 0)
                 slot->stat = 1;
             m->reply(lines);
         }},
        {"+CMGL", [smsGate](FakeModem *m, Kind k, const QByteArray &a) {
             if (!smsGate(m))
                 return;
             if (k == Test)
                 return m->reply({QByteArrayLiteral("+CMGL: (0-4)")});
             const auto stat = number(a);
             if (k != Set || !stat || *stat < 0 || *stat > 4)
                 return m->reply({}, m->error(302));
             Storage &s = m->storage(m->m_mem1);
             QList<QByteArray> lines;
             for (int i = 0; i < s.cells.size(); ++i) {
                 auto &slot = s.cells[i];
                 if (!slot || (*stat != 4 && slot->stat != *stat))
                     continue;
                 lines << "+CMGL: " + QByteArray::number(i + 1) + ',' + QByteArray::number(slot->stat) + ",,"
                              + QByteArray::number(tpduLength(slot->pdu));
                 lines << slot->pdu.toHex().toUpper();
                 if (slot->stat == 0)
                     slot->stat = 1;
             }
             m->reply(lines);
         }},
        {"+CMGD", [ok, smsGate](FakeModem *m, Kind k, const QByteArray &a) {
             if (!smsGate(m))
                 return;
             if (k == Test)
                 return m->reply({QByteArrayLiteral("+CMGD: (1-") + QByteArray::number(m->m_options.storageSlots)
                                  + QByteArrayLiteral("),(0-4)")});
             const QList<QByteArray> parts = a.split(',');
             const auto i = number(parts.first());
             const auto flag = parts.size() > 1 ? number(parts.at(1)) : std::optional<int>(0);
             Storage &s = m->storage(m->m_mem1);
             if (k != Set || !i || !flag || *flag < 0 || *flag > 4 || *i < (*flag ? 0 : 1) || *i > s.cells.size())
                 return m->reply({}, m->error(321));
             if (*flag == 0) {
                 s.cells[*i - 1].reset();
             } else {
                 for (auto &slot : s.cells)
                     if (slot && (*flag == 4 || slot->stat == 1 || (*flag >= 2 && slot->stat == 3)
                                  || (*flag >= 3 && slot->stat == 2)))
                         slot.reset();
             }
             ok(m);
             m->flushNetwork();
         }},
    };

    const auto it = table.constFind(name);
    if (it == table.cend()) {
        reply({}, QByteArrayLiteral("ERROR"));
        return;
    }
    (*it)(this, kind, args);
}

void FakeModem::handlePdu(const QByteArray &raw) {
    const QByteArray hex = raw.trimmed();
    emit pduReceived(hex);
    const bool isWrite = m_promptCommand.toUpper().startsWith("AT+CMGW");
    auto flush = [this] { FakeModem::write(std::exchange(m_deferredUrcs, {})); };
    auto refuse = [this, flush] {
        reply({}, error(304));
        flush();
    };
    if (!isWrite)
        ++m_attempts;
    bool hexOk = !hex.isEmpty() && hex.size() % 2 == 0;
    for (char c : hex)
        hexOk = hexOk && isHex(c);
    if (!hexOk)
        return refuse();
    const QByteArray bytes = QByteArray::fromHex(hex);
    if (tpduLength(bytes) != m_promptLength)
        return refuse();
    const auto sms = pdu::decode(bytes, true);
    if (!sms || sms->type != pdu::PduType::Submit)
        return refuse();
    if (isWrite) {
        const int index = storeIn(m_mem2, Slot{2, bytes});
        if (index < 0)
            reply({}, error(322));
        else
            reply({"+CMGW: " + QByteArray::number(index)});
        return flush();
    }
    if (const auto rule = takeRule(m_promptCommand, true, false)) {
        const QByteArray r = rule->reply;
        flush();
        if (!r.isEmpty())
            later(m_options.sendDelayMs, [this, r] { reply({}, r); });
        return;
    }
    Sent s;
    s.pdu = bytes;
    s.tpduLength = m_promptLength;
    s.messageReference = m_nextMr;
    s.sms = *sms;
    m_nextMr = (m_nextMr + 1) & 0xFF;
    m_sent.append(s);
    flush();
    const int mr = s.messageReference;
    later(m_options.sendDelayMs, [this, mr] { reply({"+CMGS: " + QByteArray::number(mr)}); });
    if (m_options.autoStatusReport && sms->statusReportRequested) {
        const QString to = sms->address.text;
        later(m_options.sendDelayMs + m_options.statusReportDelayMs,
              [this, mr, to] { statusReport(mr, m_options.autoReportStatus, to); });
    }
}

} // namespace td::test
