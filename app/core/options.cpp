#include "core/options.h"

#include "cli/cli.h"
#include "modem/modemengine.h"

#include <QCommandLineParser>
#include <QCoreApplication>

namespace td {

int parseStartOptions(const QStringList &arguments, StartOptions *out) {
    QCommandLineParser p;
    QString desc = QStringLiteral(
        "TrackerDesk: a home server, live map and packet inspector for GT06 and JT/T 808 GPS trackers.\n\n"
        "Commands (trackerdesk COMMAND --help for details):\n");
    for (const cli::Command &c : cli::commands())
        desc += QStringLiteral("  %1  %2\n").arg(c.name, -12).arg(c.summary);
    p.setApplicationDescription(desc);
    p.addHelpOption();
    p.addVersionOption();
    QCommandLineOption port(QStringLiteral("port"), QStringLiteral("TCP port for trackers (default 5023)."), QStringLiteral("PORT"));
    QCommandLineOption listen(QStringLiteral("listen"), QStringLiteral("Address to listen on (default: all)."), QStringLiteral("ADDRESS"));
    QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Folder for the database and logs."), QStringLiteral("DIR"));
    QCommandLineOption settings(QStringLiteral("settings"), QStringLiteral("Use this INI file for settings."), QStringLiteral("FILE"));
    QCommandLineOption headless(QStringLiteral("headless"), QStringLiteral("Run the server and store without a window; "
                                                                           "one line per connection, fix and alarm; stop with Ctrl+C/SIGTERM."));
    QCommandLineOption modem(QStringLiteral("modem"), QStringLiteral("GSM modem for SMS: serial port, optionally with its speed "
                                                                     "(/dev/ttyUSB2, COM5:115200); default: the settings."),
                             QStringLiteral("PORT[:BAUD]"));
    QCommandLineOption modemTrace(QStringLiteral("modem-trace"),
                                  QStringLiteral("Print the AT dialogue with the modem on stderr (the window also shows it "
                                                 "in SMS > Modem log); the SIM PIN is masked."));
    p.addOptions({port, listen, dataDir, settings, headless, modem, modemTrace});
    p.addPositionalArgument(QStringLiteral("command"), QStringLiteral("Optional CLI command (see above)."), QStringLiteral("[COMMAND]"));

    if (!p.parse(arguments)) {
        cli::printError(p.errorText() + QStringLiteral(" (see trackerdesk --help)"));
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::printOut(p.helpText());
        return 0;
    }
    if (p.isSet(QStringLiteral("version"))) {
        cli::printOut(QStringLiteral("trackerdesk %1 (Qt %2)\n").arg(QCoreApplication::applicationVersion(), QString::fromLatin1(qVersion())));
        return 0;
    }
    if (!p.positionalArguments().isEmpty()) {
        cli::printError(QStringLiteral("unknown command '%1' (see trackerdesk --help)").arg(p.positionalArguments().first()));
        return 2;
    }
    if (p.isSet(port)) {
        bool ok = false;
        const int v = p.value(port).toInt(&ok);
        if (!ok || v < 0 || v > 65535) {  // 0: any free port (printed at start)
            cli::printError(QStringLiteral("--port takes a number from 0 to 65535, not '%1'").arg(p.value(port)));
            return 2;
        }
        out->port = quint16(v);
    }
    if (p.isSet(listen)) {
        QHostAddress a;
        if (!a.setAddress(p.value(listen))) {
            cli::printError(QStringLiteral("--listen takes an IP address, not '%1'").arg(p.value(listen)));
            return 2;
        }
        out->listen = a;
    }
    if (p.isSet(modem)) {
        QString why;
        if (!modem::parseModemSpec(p.value(modem), &why)) {
            cli::printError(QStringLiteral("--modem: %1").arg(why));
            return 2;
        }
        out->modem = p.value(modem);
    }
    out->headless = p.isSet(headless);
    out->modemTrace = p.isSet(modemTrace);
    out->dataDir = p.value(dataDir);
    out->settingsFile = p.value(settings);
    return -1;
}

} // namespace td
