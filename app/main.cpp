// Entry point: picks a CLI command, the headless mode or the GUI.
//   trackerdesk                      GUI (main window)
//   trackerdesk COMMAND [options]    CLI: decode, ... (trackerdesk --help lists them)
#include "cli/cli.h"
#include "core/options.h"
#include "headless/headless.h"

#include "window/gui.h"

#include <QCoreApplication>
#include <QtQml/qqmlextensionplugin.h>

Q_IMPORT_QML_PLUGIN(TrackerDesk_MapPlugin)

int main(int argc, char **argv) {
    QCoreApplication::setOrganizationName(QStringLiteral("TrackerDesk"));
    QCoreApplication::setApplicationName(QStringLiteral("trackerdesk"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TD_VERSION));

    if (argc > 1) {
        const QString first = QString::fromLocal8Bit(argv[1]);
        if (const td::cli::Command *cmd = td::cli::findCommand(first)) {
            QCoreApplication app(argc, argv);
            QStringList args = app.arguments();
            args.removeAt(1);
            args[0] = QStringLiteral("trackerdesk ") + first;
            return cmd->run(args);
        }
    }

    // Options shared by GUI and headless mode, parsed before any QApplication exists so
    // that --help/--version/--headless work without a display.
    td::StartOptions opts;
    {
        QCoreApplication probe(argc, argv);
        const int rc = td::parseStartOptions(probe.arguments(), &opts);
        if (rc >= 0)
            return rc;  // --help, --version or a usage error
    }
    if (opts.headless)
        return td::runHeadless(argc, argv, opts);
    return td::ui::runGui(argc, argv, opts);
}
