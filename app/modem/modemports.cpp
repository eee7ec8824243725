// The static helpers of the modem engine: the --modem option, the port list for the
// settings dialog and the blocking probe behind its "Detect" button.
#include "modem/modemengine.h"

#include "trackerdesk/protocol/atline.h"

#include <QDeadlineTimer>
#include <QSerialPort>
#include <QSerialPortInfo>

namespace td::modem {

namespace at = td::proto::at;

namespace {
constexpr qint32 kMinBaud = 300;
constexpr qint32 kMaxBaud = 4000000;

bool allDigits(const QString &s) {
    if (s.isEmpty())
        return false;
    for (QChar c : s)
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return false;
    return true;
}
} // namespace

QString modemStateName(ModemState s) {
    switch (s) {
    case ModemState::Closed: return QStringLiteral("closed");
    case ModemState::Opening: return QStringLiteral("opening");
    case ModemState::Initialising: return QStringLiteral("initialising");
    case ModemState::Ready: return QStringLiteral("ready");
    case ModemState::Reconnecting: return QStringLiteral("reconnecting");
    case ModemState::Failed: return QStringLiteral("failed");
    }
    return QStringLiteral("unknown");
}

std::optional<ModemConfig> parseModemSpec(const QString &spec, QString *error) {
    auto fail = [error](const QString &why) -> std::optional<ModemConfig> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const QString s = spec.trimmed();
    if (s.isEmpty())
        return fail(QStringLiteral("empty modem port (expected PORT or PORT:BAUD, e.g. /dev/ttyUSB2:115200)"));
    ModemConfig c;
    c.port = s;
    // The baud rate follows the LAST colon, and only when it is a number: udev's by-path
    // names ("pci-0000:00:14.0-usb-0:1:1.0-port0") contain colons themselves.
    const int colon = int(s.lastIndexOf(QLatin1Char(':')));
    if (colon >= 0) {
        const QString tail = s.mid(colon + 1);
        const QString head = s.left(colon);
        const bool pathLike = head.contains(QLatin1Char('/')) || head.contains(QLatin1Char('\\'));
        if (allDigits(tail)) {
            bool ok = false;
            const qint64 baud = tail.toLongLong(&ok);
            if (!ok || tail.size() > 9 || baud < kMinBaud || baud > kMaxBaud)
                return fail(QStringLiteral("baud rate %1 out of range (%2..%3) in \"%4\"")
                                .arg(tail).arg(kMinBaud).arg(kMaxBaud).arg(s));
            if (head.isEmpty())
                return fail(QStringLiteral("no port before the baud rate in \"%1\"").arg(s));
            c.port = head;
            c.baud = qint32(baud);
        } else if (!pathLike) {
            return fail(QStringLiteral("\"%1\" is not a baud rate (expected PORT:BAUD, e.g. COM5:115200)").arg(tail));
        }
    }
    for (QChar ch : c.port)
        if (ch.unicode() < 0x20)
            return fail(QStringLiteral("control character in the modem port name"));
    return c;
}

QList<PortInfo> availablePorts() {
    QList<PortInfo> out;
    const auto ports = QSerialPortInfo::availablePorts();
    for (const QSerialPortInfo &p : ports) {
        PortInfo i;
        i.name = p.portName();
        i.systemLocation = p.systemLocation();
        i.description = p.description();
        i.manufacturer = p.manufacturer();
        i.serialNumber = p.serialNumber();
        i.hasIds = p.hasVendorIdentifier() && p.hasProductIdentifier();
        if (i.hasIds) {
            i.vendorId = p.vendorIdentifier();
            i.productId = p.productIdentifier();
        }
        out.append(i);
    }
    return out;
}

bool ModemEngine::probe(const QString &portName, qint32 baud, int timeoutMs, QString *answer) {
    auto fail = [answer](const QString &why) {
        if (answer)
            *answer = why;
        return false;
    };
    QSerialPort port;
    port.setPortName(portName);
    if (!port.open(QIODevice::ReadWrite))
        return fail(QStringLiteral("cannot open %1: %2").arg(portName, port.errorString()));
    if (!port.setBaudRate(baud) || !port.setDataBits(QSerialPort::Data8) || !port.setParity(QSerialPort::NoParity)
        || !port.setStopBits(QSerialPort::OneStop) || !port.setFlowControl(QSerialPort::NoFlowControl))
        return fail(QStringLiteral("cannot configure %1: %2").arg(portName, port.errorString()));
    port.clear();

    const QDeadlineTimer deadline(qMax(timeoutMs, 1));
    at::Reader reader;
    // Runs one command; the final result (nullopt on timeout) and the response lines.
    auto run = [&](const QByteArray &command, int budgetMs, QList<QByteArray> *lines) -> std::optional<at::Final> {
        reader.setCommand(command);
        if (port.write(command + '\r') < 0)
            return std::nullopt;
        const QDeadlineTimer step(qMin<qint64>(budgetMs, deadline.remainingTime()));
        port.waitForBytesWritten(int(qMax<qint64>(step.remainingTime(), 0)));
        while (!step.hasExpired()) {
            if (!port.waitForReadyRead(int(qMax<qint64>(step.remainingTime(), 1))) && port.bytesAvailable() == 0) {
                if (port.error() != QSerialPort::NoError && port.error() != QSerialPort::TimeoutError)
                    return std::nullopt;
                continue;
            }
            for (const at::Event &e : reader.feed(port.readAll())) {
                if (e.kind == at::Event::Final)
                    return e.final;
                if (e.kind == at::Event::Line && lines && lines->size() < 16)
                    lines->append(e.line.trimmed());
            }
        }
        return std::nullopt;
    };

    const int tries = 3;
    std::optional<at::Final> final;
    for (int i = 0; i < tries && !deadline.hasExpired() && !(final && final->ok()); ++i) {
        const qint64 left = deadline.remainingTime();
        final = run(QByteArrayLiteral("AT"), int(qMax<qint64>(left / (tries - i), 1)), nullptr);
    }
    if (!final || !final->ok())
        return fail(final ? QStringLiteral("AT answered %1").arg(final->text)
                          : QStringLiteral("no answer to AT on %1 within %2 ms").arg(portName).arg(timeoutMs));
    // Identify the modem for the dialog when there is time left; OK alone is already a yes.
    QList<QByteArray> lines;
    QString text = QStringLiteral("OK");
    if (!deadline.hasExpired()) {
        const auto ati = run(QByteArrayLiteral("ATI"), int(qMax<qint64>(deadline.remainingTime(), 1)), &lines);
        if (ati && ati->ok() && !lines.isEmpty()) {
            QStringList parts;
            for (const QByteArray &l : std::as_const(lines))
                if (!l.isEmpty())
                    parts << QString::fromLatin1(l).left(80);
            text = parts.join(QLatin1Char(' '));
        }
    }
    if (answer)
        *answer = text;
    return true;
}

} // namespace td::modem
