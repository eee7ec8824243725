#include "cli/cli.h"

#include "store/store.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <cstdio>

namespace td::cli {

int runDecode(const QStringList &args);
int runSimulate(const QStringList &args);
int runParseSms(const QStringList &args);
int runExport(const QStringList &args);
int runGeo(const QStringList &args);
int runSms(const QStringList &args);

const QList<Command> &commands() {
    static const QList<Command> table = {
        {QStringLiteral("decode"), QStringLiteral("Decode tracker frames given as hex (arguments or stdin lines)"), &runDecode},
        {QStringLiteral("parse-sms"), QStringLiteral("Find positions in SMS text"), &runParseSms},
        {QStringLiteral("export"), QStringLiteral("Export tracks or raw frames to a file"), &runExport},
        {QStringLiteral("geo"), QStringLiteral("Offline cell/Wi-Fi databases and pending geolocation (import-cells, status, resolve)"), &runGeo},
        {QStringLiteral("sms"), QStringLiteral("Send an SMS or tracker command, list the SMS conversations (send, list)"), &runSms},
        {QStringLiteral("simulate"), QStringLiteral("Play simulated trackers against a server (load tests, --demo)"), &runSimulate},
    };
    return table;
}

const Command *findCommand(const QString &name) {
    for (const Command &c : commands())
        if (c.name == name)
            return &c;
    return nullptr;
}

void printError(const QString &message) {
    std::fflush(stdout);   // what was printed before the error comes before it, also through a pipe
    std::fputs(("trackerdesk: error: " + message + "\n").toUtf8().constData(), stderr);
    std::fflush(stderr);
}

void printOut(const QString &text) {
    std::fputs(text.toUtf8().constData(), stdout);
}

// arguments[0] names the command ("trackerdesk decode", "trackerdesk geo status"): the help's
// usage line and the error hint say it (Qt's help text names argv[0], the bare program).
std::optional<int> parseArguments(QCommandLineParser &parser, const QStringList &arguments, const QString &hint) {
    const QString command = arguments.value(0, QStringLiteral("trackerdesk"));
    if (!parser.parse(arguments)) {
        printError(parser.errorText() + (hint.isEmpty() ? QStringLiteral(" (see %1 --help)").arg(command) : hint));
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QString help = parser.helpText();
        const QString usage = QStringLiteral("Usage: ");
        const QString program = QCoreApplication::arguments().value(0);
        if (!program.isEmpty() && help.startsWith(usage + program + QLatin1Char(' ')))
            help.replace(usage.size(), program.size(), command);
        printOut(help);
        return 0;
    }
    return std::nullopt;
}

std::optional<int> noPositionalArguments(const QCommandLineParser &parser, const QStringList &arguments) {
    if (parser.positionalArguments().isEmpty())
        return std::nullopt;
    printError(QStringLiteral("unexpected argument '%1' (see %2 --help)")
                   .arg(parser.positionalArguments().first(), arguments.value(0, QStringLiteral("trackerdesk"))));
    return 2;
}

QString missingDatabase(const QString &dir) {
    if (QFileInfo::exists(QDir(dir).filePath(store::Store::fileName())))
        return {};
    return QStringLiteral("no TrackerDesk data in %1 (no %2 there: start TrackerDesk once with this data folder, or give --data-dir)")
        .arg(QDir::toNativeSeparators(dir), store::Store::fileName());
}

} // namespace td::cli
