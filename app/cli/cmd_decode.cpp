// trackerdesk decode [--json] [--protocol ID] [--to-device] [--tz MINUTES] [HEX ...]
// Decodes each frame and prints its annotated field tree (like `tshark -V`) and the
// reply bytes. Without HEX arguments, reads one hex frame per line from stdin.
#include "cli/cli.h"

#include "trackerdesk/protocol/protocol.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>

#include <cstdio>

namespace td::cli {

int runDecode(const QStringList &args) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Decode tracker frames given as hex. Without HEX arguments, "
                                               "reads one frame per line from standard input."));
    p.addHelpOption();
    QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON instead of the field tree."));
    QStringList protocolIds;
    for (const proto::Protocol *pr : proto::protocols())
        protocolIds << pr->id();
    QCommandLineOption proto(QStringList{QStringLiteral("p"), QStringLiteral("protocol")},
                             QStringLiteral("Protocol: %1 (default: sniffed from the bytes; Topin frames are gt06, "
                                            "with --model topin to force the dialect).").arg(protocolIds.join(QStringLiteral(", "))),
                             QStringLiteral("ID"));
    QCommandLineOption out(QStringLiteral("to-device"), QStringLiteral("The frames are server-to-device messages."));
    QCommandLineOption tz(QStringLiteral("tz"), QStringLiteral("Device time zone offset in minutes."), QStringLiteral("MINUTES"));
    QCommandLineOption model(QStringLiteral("model"), QStringLiteral("Model/dialect hint (e.g. topin)."), QStringLiteral("MODEL"));
    p.addOptions({json, proto, out, tz, model});
    p.addPositionalArgument(QStringLiteral("hex"), QStringLiteral("Frames as hex strings."), QStringLiteral("[HEX...]"));
    if (const auto exit = parseArguments(p, args))
        return *exit;

    const proto::Protocol *forced = nullptr;
    if (p.isSet(proto)) {
        forced = proto::protocolById(p.value(proto));
        if (!forced) {
            printError(QStringLiteral("unknown protocol '%1' (known: %2)").arg(p.value(proto), protocolIds.join(QStringLiteral(", "))));
            return 2;
        }
    }
    proto::SessionOptions opts;
    opts.direction = p.isSet(out) ? proto::Direction::ToDevice : proto::Direction::FromDevice;
    opts.model = p.value(model);
    if (p.isSet(tz)) {
        bool ok = false;
        const int m = p.value(tz).toInt(&ok);
        if (!ok || m < -720 || m > 840) {
            printError(QStringLiteral("--tz takes minutes between -720 and 840, not '%1'").arg(p.value(tz)));
            return 2;
        }
        opts.timeZoneMinutes = m;
    }

    QStringList inputs = p.positionalArguments();
    if (inputs.isEmpty()) {
        QTextStream in(stdin);
        QString line;
        while (in.readLineInto(&line))
            if (!line.trimmed().isEmpty() && !line.trimmed().startsWith(QLatin1Char('#')))
                inputs << line;
        if (inputs.isEmpty()) {
            printError(QStringLiteral("no frames given (pass hex arguments or lines on stdin)"));
            return 2;
        }
    }

    int failures = 0;
    QJsonArray jsonFrames;
    for (int i = 0; i < inputs.size(); ++i) {
        const QString where = inputs.size() > 1 ? QStringLiteral("frame %1: ").arg(i + 1) : QString();
        QString err;
        const auto bytes = proto::fromHex(inputs[i], &err);
        if (!bytes) {
            printError(where + QStringLiteral("bad hex: ") + err);
            ++failures;
            continue;
        }
        const proto::Protocol *pr = forced;
        if (!pr) {
            bool more = false;
            pr = proto::sniffProtocol(*bytes, &more);
            if (!pr) {
                printError(where + QStringLiteral("not a frame of any known protocol (starts with %1)")
                                       .arg(proto::toHex(bytes->left(4), ' ')));
                ++failures;
                continue;
            }
        }
        const proto::DecodedFrame f = pr->decodeFrame(*bytes, opts);
        if (p.isSet(json)) {
            jsonFrames.append(proto::frameToJson(f));
        } else {
            QString text = proto::formatFieldTree(f);
            if (f.replies.isEmpty())
                text += QStringLiteral("Reply: none\n");
            for (const QByteArray &r : f.replies)
                text += QStringLiteral("Reply: %1\n").arg(proto::toHex(r));
            if (i + 1 < inputs.size())
                text += QLatin1Char('\n');
            printOut(text);
        }
        if (!f.warnings.isEmpty()) {
            printError(where + QStringLiteral("broken %1 frame: %2").arg(f.protocol, f.warnings.join(QStringLiteral("; "))));
            ++failures;
        }
    }
    if (p.isSet(json))
        printOut(QString::fromUtf8(QJsonDocument(jsonFrames).toJson(QJsonDocument::Indented)));
    std::fflush(stdout);
    return failures ? 1 : 0;
}

} // namespace td::cli
