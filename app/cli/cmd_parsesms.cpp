// trackerdesk parse-sms [--json] [--received ISO] [--tz MINUTES] [--rejected] [--list-formats] [TEXT ...]
// Finds the positions in an SMS text (tracker replies, NMEA, map links, ...; see
// docs/protocols.md "SMS text positions"). TEXT arguments are joined with spaces; without
// them the whole of standard input is the text (UTF-8).
// Exit code: 0 positions found, 1 none found, 2 usage error.
#include "cli/cli.h"

#include "trackerdesk/protocol/smstext.h"

#include <QCommandLineParser>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace td::cli {

namespace {

QString describe(const proto::sms::SmsPosition &r, int index, int offsetMinutes) {
    const proto::Position &p = r.position;
    QString s = QStringLiteral("%1. %2 [%3] at characters %4-%5\n")
                    .arg(index)
                    .arg(proto::sms::formatName(r.format), r.format)
                    .arg(r.offset)
                    .arg(r.offset + r.length - 1);
    s += QStringLiteral("   position  %1, %2  (%3)\n")
             .arg(p.latitude, 0, 'f', 6)
             .arg(p.longitude, 0, 'f', 6)
             .arg(p.valid ? QStringLiteral("valid") : QStringLiteral("NOT valid"));
    QString time;
    if (!p.timeValid) {
        time = QStringLiteral("unknown");
    } else {
        time = p.time.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) + QStringLiteral(" UTC");
        switch (r.timeSource) {
        case proto::sms::TimeSource::TextTimeOfDay: time += QStringLiteral(" (time of day from the text, date from --received)"); break;
        case proto::sms::TimeSource::Received: time += QStringLiteral(" (no time in the text: --received)"); break;
        default: break;
        }
        if (r.deviceLocalTime)
            time += QStringLiteral(" (device-local time in the text, --tz %1)").arg(offsetMinutes);
    }
    s += QStringLiteral("   time      %1\n").arg(time);
    if (p.speedKmh)
        s += QStringLiteral("   speed     %1 km/h\n").arg(*p.speedKmh, 0, 'f', 2);
    if (p.course)
        s += QStringLiteral("   course    %1°\n").arg(*p.course, 0, 'f', 1);
    if (p.altitude)
        s += QStringLiteral("   altitude  %1 m\n").arg(*p.altitude, 0, 'f', 1);
    if (p.satellites)
        s += QStringLiteral("   sats      %1\n").arg(*p.satellites);
    if (r.checksumOk)
        s += QStringLiteral("   checksum  %1\n").arg(*r.checksumOk ? QStringLiteral("ok") : QStringLiteral("BAD"));
    if (!r.note.isEmpty())
        s += QStringLiteral("   note      %1\n").arg(r.note);
    return s;
}

} // namespace

int runParseSms(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Find positions in SMS text (tracker replies, NMEA sentences, map links, ...).\n"
        "TEXT arguments are joined with spaces; without them the text is read from standard input.\n"
        "Exit code: 0 positions found, 1 none found, 2 usage error."));
    p.addHelpOption();
    QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON (an array of positions)."));
    QCommandLineOption received(QStringLiteral("received"),
                                QStringLiteral("When the SMS arrived (ISO 8601, e.g. 2024-01-02T03:04:05Z): dates time-of-day-only texts "
                                               "and times texts that carry none."),
                                QStringLiteral("TIME"));
    QCommandLineOption tz(QStringLiteral("tz"), QStringLiteral("Device time zone offset in minutes for device-local times (GMT,E,8# = 480)."),
                          QStringLiteral("MINUTES"));
    QCommandLineOption rejected(QStringLiteral("rejected"), QStringLiteral("Also list records that looked like a format but were refused."));
    QCommandLineOption list(QStringLiteral("list-formats"), QStringLiteral("List the known formats and exit."));
    p.addOptions({json, received, tz, rejected, list});
    p.addPositionalArgument(QStringLiteral("text"), QStringLiteral("The SMS text."), QStringLiteral("[TEXT...]"));
    if (const auto exit = parseArguments(p, args))
        return *exit;
    if (p.isSet(list)) {
        QString out;
        for (const proto::sms::FormatInfo &f : proto::sms::formats())
            out += QStringLiteral("%1\t%2\t%3\n").arg(f.id, f.name, f.evidence);
        printOut(out);
        return 0;
    }

    proto::sms::ParseOptions opts;
    if (p.isSet(received)) {
        opts.received = QDateTime::fromString(p.value(received), Qt::ISODate);
        if (!opts.received.isValid()) {
            printError(QStringLiteral("--received takes an ISO 8601 time such as 2024-01-02T03:04:05Z, not '%1'").arg(p.value(received)));
            return 2;
        }
    }
    if (p.isSet(tz)) {
        bool ok = false;
        const int m = p.value(tz).toInt(&ok);
        if (!ok || m < -720 || m > 840) {
            printError(QStringLiteral("--tz takes minutes between -720 and 840, not '%1'").arg(p.value(tz)));
            return 2;
        }
        opts.deviceUtcOffsetMinutes = m;
    }

    QString text = p.positionalArguments().join(QLatin1Char(' '));
    if (p.positionalArguments().isEmpty()) {
        QFile in;
        if (!in.open(stdin, QIODevice::ReadOnly)) {
            printError(QStringLiteral("cannot read standard input"));
            return 2;
        }
        text = QString::fromUtf8(in.readAll());
    }
    if (text.trimmed().isEmpty()) {   // also an empty argument ("$VAR" unset): a usage error, not "no position"
        printError(QStringLiteral("no text given (pass it as arguments or on standard input)"));
        return 2;
    }

    QStringList refused;
    const QList<proto::sms::SmsPosition> found = proto::sms::parsePositions(text, opts, p.isSet(rejected) ? &refused : nullptr);
    if (p.isSet(json)) {
        QJsonArray a;
        for (const proto::sms::SmsPosition &r : found)
            a.append(proto::sms::smsPositionToJson(r));
        printOut(QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Indented)));
    } else {
        QString out;
        for (int i = 0; i < found.size(); ++i)
            out += describe(found[i], i + 1, opts.deviceUtcOffsetMinutes);
        printOut(out);
    }
    for (const QString &r : refused)   // diagnostics, not errors: stderr keeps --json output clean
        std::fputs(("trackerdesk: refused: " + r + QLatin1Char('\n')).toUtf8().constData(), stderr);
    std::fflush(stdout);
    if (found.isEmpty()) {
        printError(QStringLiteral("no position found in the text"));
        return 1;
    }
    return 0;
}

} // namespace td::cli
