// trackerdesk sms send --to NUMBER|DEVICE [--channel auto|sms|gprs] [--modem PORT[:BAUD]] [--timeout S] TEXT...
// trackerdesk sms list [--device DEVICE|NUMBER] [--limit N] [--json]
// (both take --data-dir DIR)
//
// send: when TrackerDesk runs on the data folder, the message is handed to it (it owns the
// modem and the GPRS connections) and its answer printed. Otherwise the message is queued in
// the store and sent by the next TrackerDesk started with a modem; with --modem the command
// opens the modem itself, sends (the queue, oldest first) and waits for the result.
// Exit codes: 0 handed over / queued / sent, 1 refused or failed, 2 usage error.
#include "cli/cli.h"

#include "core/instance.h"
#include "core/settings.h"
#include "sms/numbers.h"
#include "sms/smsservice.h"

#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSerialPortInfo>
#include <QTimer>

#include <algorithm>
#include <cstdio>

namespace td::cli {

namespace {

constexpr int kHandOffTimeoutMs = 5000;

QCommandLineOption dataDirOption() {
    return QCommandLineOption(QStringLiteral("data-dir"), QStringLiteral("TrackerDesk's data folder (default: from the settings)."),
                              QStringLiteral("DIR"));
}

QString resolveDataDir(const QCommandLineParser &p) {
    return p.isSet(QStringLiteral("data-dir")) ? p.value(QStringLiteral("data-dir")) : AppSettings().dataDir();
}

// Opens the store of a data folder that has one. Empty on success, else the error.
QString openStore(store::Store &store, const QString &dir) {
    if (const QString missing = missingDatabase(dir); !missing.isEmpty())
        return missing;
    if (!store.open(QDir(dir).filePath(store::Store::fileName())))
        return store.lastError();
    return {};
}

QString formatTime(const QDateTime &t) {
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QStringLiteral("-");
}

QJsonObject messageJson(const sms::Message &m, const QString &device) {
    QJsonObject o{{QStringLiteral("id"), m.id},
                  {QStringLiteral("direction"), m.direction == sms::Direction::Sent ? QStringLiteral("sent") : QStringLiteral("received")},
                  {QStringLiteral("number"), m.number},
                  {QStringLiteral("device"), device},
                  {QStringLiteral("channel"), sms::channelName(m.channel)},
                  {QStringLiteral("state"), sms::stateName(m.state)},
                  {QStringLiteral("text"), m.text},
                  {QStringLiteral("created"), m.created.toUTC().toString(Qt::ISODateWithMs)},
                  {QStringLiteral("parts"), m.parts}};
    if (m.deviceId > 0)
        o.insert(QStringLiteral("device_id"), m.deviceId);
    if (m.sent.isValid())
        o.insert(QStringLiteral("sent"), m.sent.toUTC().toString(Qt::ISODateWithMs));
    if (m.done.isValid())
        o.insert(QStringLiteral("done"), m.done.toUTC().toString(Qt::ISODateWithMs));
    if (m.scts.isValid())
        o.insert(QStringLiteral("scts"), m.scts.toString(Qt::ISODate));
    if (!m.error.isEmpty())
        o.insert(QStringLiteral("error"), m.error);
    if (m.attempts > 0)
        o.insert(QStringLiteral("attempts"), m.attempts);
    if (m.positions > 0)
        o.insert(QStringLiteral("positions"), m.positions);
    if (m.replyTo > 0)
        o.insert(QStringLiteral("reply_to"), m.replyTo);
    QJsonArray refs;
    for (const sms::PartReference &r : m.references) {
        QJsonObject ro{{QStringLiteral("part"), r.part + 1}, {QStringLiteral("reference"), r.reference}};
        if (r.status)
            ro.insert(QStringLiteral("status"), *r.status);
        refs.append(ro);
    }
    if (!refs.isEmpty())
        o.insert(QStringLiteral("references"), refs);
    return o;
}

int runSend(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Send an SMS (or, to an online tracker, a GPRS text command).\n"
        "When TrackerDesk runs on the data folder it sends the message; otherwise the message is queued in the\n"
        "store and sent when TrackerDesk runs with a modem, or right away with --modem.\n"
        "Exit code: 0 handed over, queued or sent; 1 refused or failed; 2 usage error."));
    p.addHelpOption();
    QCommandLineOption to(QStringLiteral("to"), QStringLiteral("Phone number, or the name or IMEI of a device (its SIM number is used)."),
                          QStringLiteral("NUMBER|DEVICE"));
    QCommandLineOption channel(QStringLiteral("channel"),
                               QStringLiteral("auto (GPRS when the device is online, else SMS), sms or gprs. Default: auto."),
                               QStringLiteral("CHANNEL"), QStringLiteral("auto"));
    QCommandLineOption modem(QStringLiteral("modem"),
                             QStringLiteral("Open this modem (PORT or PORT:BAUD), send, wait for the result and exit."),
                             QStringLiteral("PORT[:BAUD]"));
    QCommandLineOption timeout(QStringLiteral("timeout"),
                               QStringLiteral("With --modem: give up waiting after this many seconds (default 120)."),
                               QStringLiteral("SECONDS"), QStringLiteral("120"));
    QCommandLineOption waitDelivery(QStringLiteral("wait-delivery"),
                                    QStringLiteral("With --modem: wait for the delivery report, not only for the network's acceptance."));
    QCommandLineOption trace(QStringLiteral("trace"),
                             QStringLiteral("With --modem: print the AT dialogue with the modem on stderr (the SIM PIN masked)."));
    p.addOptions({to, channel, modem, timeout, waitDelivery, trace, dataDirOption()});
    p.addPositionalArgument(QStringLiteral("text"), QStringLiteral("The message (arguments joined with spaces)."), QStringLiteral("TEXT..."));
    if (const auto exit = parseArguments(p, args))
        return *exit;
    if (!p.isSet(to)) {
        printError(QStringLiteral("sms send needs --to NUMBER|DEVICE"));
        return 2;
    }
    const QString text = p.positionalArguments().join(QLatin1Char(' '));
    if (text.trimmed().isEmpty()) {
        printError(QStringLiteral("sms send needs the message text"));
        return 2;
    }
    const auto choice = sms::channelChoiceFromName(p.value(channel));
    if (!choice) {
        printError(QStringLiteral("--channel takes auto, sms or gprs, not '%1'").arg(p.value(channel)));
        return 2;
    }
    bool ok = false;
    const int timeoutSec = p.value(timeout).toInt(&ok);
    if (!ok || timeoutSec < 1 || timeoutSec > 86400) {
        printError(QStringLiteral("--timeout takes seconds from 1 to 86400, not '%1'").arg(p.value(timeout)));
        return 2;
    }
    std::optional<modem::ModemConfig> modemConfig;
    if (p.isSet(modem)) {
        QString err;
        modemConfig = modem::parseModemSpec(p.value(modem), &err);
        if (!modemConfig) {
            printError(QStringLiteral("--modem: %1").arg(err));
            return 2;
        }
    }
    const QString dir = resolveDataDir(p);

    // 1. A running TrackerDesk owns the modem and the trackers' connections: hand it over.
    QString instanceError;
    const auto answer = sendToInstance(dir,
                                       {{QStringLiteral("command"), QStringLiteral("sms-send")},
                                        {QStringLiteral("to"), p.value(to)},
                                        {QStringLiteral("text"), text},
                                        {QStringLiteral("channel"), sms::channelChoiceName(*choice)}},
                                       kHandOffTimeoutMs, &instanceError);
    if (answer) {
        if (!answer->value(QStringLiteral("ok")).toBool()) {
            printError(answer->value(QStringLiteral("error")).toString(QStringLiteral("the running TrackerDesk refused the message")));
            return 1;
        }
        // "sent", "sent (note)", or the note alone when it starts with the state ("queued; ...").
        const QString state = answer->value(QStringLiteral("state")).toString();
        const QString note = answer->value(QStringLiteral("note")).toString();
        const QString how = note.isEmpty() ? state : note.startsWith(state) ? note : QStringLiteral("%1 (%2)").arg(state, note);
        printOut(QStringLiteral("handed to the running TrackerDesk: message %1 to %2 by %3, %4%5\n")
                     .arg(qint64(answer->value(QStringLiteral("id")).toDouble()))
                     .arg(answer->value(QStringLiteral("to")).toString(), answer->value(QStringLiteral("channel")).toString(), how,
                          modemConfig ? QStringLiteral("; --modem not used: the running TrackerDesk sends it") : QString()));
        return 0;
    }

#ifdef Q_OS_UNIX
    // A port that is not there (a typo, an unplugged modem) is said at once and nothing is
    // queued: the wait for it would last --timeout, and each new try would queue the text again.
    if (modemConfig) {
        const QString path = modemConfig->port.startsWith(QLatin1Char('/')) ? modemConfig->port
                                                                             : QStringLiteral("/dev/") + modemConfig->port;
        if (!QFileInfo::exists(path)) {
            QStringList ports;
            for (const QSerialPortInfo &i : QSerialPortInfo::availablePorts())
                ports << i.systemLocation();
            printError(QStringLiteral("--modem: no serial port %1 (ports here: %2); nothing sent or queued")
                           .arg(path, ports.isEmpty() ? QStringLiteral("none") : ports.join(QStringLiteral(", "))));
            return 1;
        }
    }
#endif

    // 2. Nobody runs there: the store itself.
    store::Store store;
    if (const QString err = openStore(store, dir); !err.isEmpty()) {
        printError(err);
        return 1;
    }
    AppSettings settings;
    if (modemConfig) {
        const sms::ModemSettings saved = sms::loadModemSettings(settings, dir);
        if (saved.port == modemConfig->port || saved.port.isEmpty())
            modemConfig->pin = saved.pin;   // the configured SIM PIN, for the configured (or only) modem
    }
    sms::SmsService service(store);
    sms::SmsConfig config;
    QString err;
    if (!service.start(config, &err)) {
        printError(err);
        return 1;
    }
    const sms::SendResult r = service.send(p.value(to), text, *choice);
    if (!r.ok()) {
        printError(r.error + (*choice == sms::ChannelChoice::Gprs
                                  ? QStringLiteral(" (no TrackerDesk runs on %1: %2)").arg(QDir::toNativeSeparators(dir), instanceError)
                                  : QString()));
        return 1;
    }
    if (!modemConfig) {
        printOut(QStringLiteral("message %1 to %2 stored in %3: %4\n")
                     .arg(r.id)
                     .arg(r.to, QDir::toNativeSeparators(dir), r.note));
        return 0;
    }

    // 3. --modem: open it, let the queue run, wait for this message.
    QEventLoop loop;
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
    const bool toDelivery = p.isSet(waitDelivery);
    auto finished = [&](const sms::Message &m) {
        if (m.id != r.id)
            return;
        if (m.state == sms::State::Failed || m.state == sms::State::Delivered || (!toDelivery && m.state == sms::State::Sent))
            loop.quit();
    };
    QObject::connect(&service, &sms::SmsService::messageChanged, &loop, finished);
    QObject::connect(&service, &sms::SmsService::modemStateChanged, &loop, [&](modem::ModemState s, const QString &detail) {
        std::fprintf(stderr, "modem: %s\n", qPrintable(sms::modemSummary(s, detail, service.modem() ? service.modem()->info()
                                                                                                       : modem::ModemInfo())));
        if (s == modem::ModemState::Failed)
            loop.quit();
    });
    QObject::connect(&service, &sms::SmsService::logMessage, &loop,
                     [](const QString &l) { std::fprintf(stderr, "%s\n", qPrintable(l)); });
    if (p.isSet(trace))
        QObject::connect(service.modemLog(), &sms::ModemLog::lineAdded, &loop, [](const sms::ModemLog::Entry &e) {
            std::fprintf(stderr, "%s\n", qPrintable(sms::ModemLog::formatLine(e)));
        });
    deadline.start(timeoutSec * 1000);
    service.setModem(*modemConfig);
    loop.exec();
    const auto m = service.message(r.id);
    if (!m) {
        printError(service.smsStore().lastError());
        return 1;
    }
    QStringList refs;
    for (const sms::PartReference &ref : m->references)
        refs << QString::number(ref.reference);
    switch (m->state) {
    case sms::State::Delivered:
        printOut(QStringLiteral("message %1 to %2 delivered\n").arg(m->id).arg(r.to));
        return 0;
    case sms::State::Sent:
        printOut(QStringLiteral("message %1 to %2 sent (message reference %3)%4\n")
                     .arg(m->id)
                     .arg(r.to, refs.join(QLatin1Char(',')),
                          toDelivery ? QStringLiteral("; no delivery report within %1 s").arg(timeoutSec) : QString()));
        return toDelivery ? 1 : 0;
    case sms::State::Failed:
        printError(QStringLiteral("message %1 to %2 failed: %3").arg(m->id).arg(r.to, m->error));
        return 1;
    default:
        printError(QStringLiteral("message %1 to %2 not sent within %3 s (modem: %4); it stays queued and is sent by "
                                  "TrackerDesk with a modem%5")
                       .arg(m->id)
                       .arg(r.to)
                       .arg(timeoutSec)
                       .arg(service.modemStatus(), m->error.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(m->error)));
        return 1;
    }
}

int runList(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("List stored SMS and GPRS command messages, oldest first (the newest --limit)."));
    p.addHelpOption();
    QCommandLineOption device(QStringLiteral("device"), QStringLiteral("Only this device (name or IMEI) or phone number."),
                              QStringLiteral("DEVICE|NUMBER"));
    QCommandLineOption limit(QStringLiteral("limit"), QStringLiteral("At most this many messages (default 50, 0: all)."),
                             QStringLiteral("N"), QStringLiteral("50"));
    QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON (an array of messages)."));
    p.addOptions({device, limit, json, dataDirOption()});
    if (const auto exit = parseArguments(p, args))
        return *exit;
    if (!p.positionalArguments().isEmpty()) {
        printError(QStringLiteral("sms list takes no arguments ('%1')").arg(p.positionalArguments().first()));
        return 2;
    }
    bool ok = false;
    const int max = p.value(limit).toInt(&ok);
    if (!ok || max < 0) {
        printError(QStringLiteral("--limit takes a number >= 0, not '%1'").arg(p.value(limit)));
        return 2;
    }
    store::Store store;
    if (const QString err = openStore(store, resolveDataDir(p)); !err.isEmpty()) {
        printError(err);
        return 1;
    }
    const QList<store::Device> devices = store.devices();
    QHash<qint64, QString> labels;
    for (const store::Device &d : devices)
        labels.insert(d.id, d.name.isEmpty() ? d.imei : d.name);
    sms::MessageFilter filter;
    filter.limit = max;
    if (p.isSet(device)) {
        const QString v = p.value(device).trimmed();
        qint64 id = 0;
        for (const store::Device &d : devices)
            if (d.imei == v || (!d.name.isEmpty() && d.name.compare(v, Qt::CaseInsensitive) == 0))
                id = d.id;
        if (id > 0) {
            filter.deviceId = id;
        } else if (sms::isPhoneNumber(v)) {
            filter.number = v;
        } else {
            printError(QStringLiteral("'%1' is neither a device name, an IMEI nor a phone number").arg(v));
            return 1;
        }
    }
    sms::SmsStore db(store);
    QList<sms::Message> list = db.messages(filter);
    if (!db.lastError().isEmpty()) {
        printError(db.lastError());
        return 1;
    }
    std::reverse(list.begin(), list.end());   // oldest first, like a conversation
    if (p.isSet(json)) {
        QJsonArray a;
        for (const sms::Message &m : std::as_const(list))
            a.append(messageJson(m, labels.value(m.deviceId)));
        printOut(QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Indented)));
        return 0;
    }
    QString out;
    for (const sms::Message &m : std::as_const(list)) {
        const bool sent = m.direction == sms::Direction::Sent;
        const QString who = sms::peerText(m.deviceId > 0 ? labels.value(m.deviceId) : QString(), m.number);
        QString line = QStringLiteral("%1  %2  %3 %4  %5  %6  %7")
                           .arg(m.id, 5)
                           .arg(formatTime(m.created), sent ? QStringLiteral("->") : QStringLiteral("<-"), who,
                                sms::channelName(m.channel), sms::stateName(m.state), QString(m.text).replace(QLatin1Char('\n'), QStringLiteral(" / ")));
        if (m.positions > 0)
            line += QStringLiteral("  [%1 position%2]").arg(m.positions).arg(m.positions > 1 ? QStringLiteral("s") : QString());
        if (!m.error.isEmpty())
            line += QStringLiteral("  (%1)").arg(m.error);
        out += line + QLatin1Char('\n');
    }
    if (list.isEmpty())
        out = QStringLiteral("no messages\n");
    printOut(out);
    return 0;
}

} // namespace

int runSms(const QStringList &args) {
    const QString usage = QStringLiteral(
        "Usage: trackerdesk sms send --to NUMBER|DEVICE [--channel auto|sms|gprs] [--modem PORT[:BAUD]] TEXT...\n"
        "       trackerdesk sms list [--device DEVICE|NUMBER] [--limit N] [--json]\n"
        "Both take --data-dir DIR; 'trackerdesk sms send --help' and 'trackerdesk sms list --help' for details.\n");
    if (args.size() < 2) {
        printError(QStringLiteral("sms needs a sub-command: send or list (see trackerdesk sms --help)"));
        return 2;
    }
    if (args.at(1) == QLatin1String("--help") || args.at(1) == QLatin1String("-h")) {
        printOut(usage);
        return 0;
    }
    QStringList rest = args.mid(2);
    const QString sub = args.at(1);
    if (sub == QLatin1String("send"))
        return runSend(QStringList{args.first() + QStringLiteral(" send")} + rest);
    if (sub == QLatin1String("list"))
        return runList(QStringList{args.first() + QStringLiteral(" list")} + rest);
    printError(QStringLiteral("unknown sms sub-command '%1' (send or list)").arg(sub));
    return 2;
}

} // namespace td::cli
