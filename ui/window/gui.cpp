#include "window/gui.h"

#include "core/settings.h"
#include "service/trackerservice.h"
#include "window/mainwindow.h"

#include <QApplication>
#include <QIcon>
#include <QMessageBox>

namespace td::ui {

int runGui(int &argc, char **argv, const StartOptions &options) {
    QApplication app(argc, argv);
    app.setWindowIcon(QIcon(QStringLiteral(":/trackerdesk/trackerdesk.svg")));
    app.setDesktopFileName(QStringLiteral("trackerdesk"));
    AppSettings settings(options.settingsFile);

    QStringList problems;
    const ServiceConfig config = serviceConfig(settings, options, &problems);
    TrackerService service;
    QString error;
    const bool running = service.start(config, &error);

    MainWindow w(settings, options, &service);
    w.show();
    if (!running)
        QMessageBox::warning(&w, QObject::tr("TrackerDesk"),
                             QObject::tr("The tracker server could not start:\n%1\n\nThe window works for browsing "
                                         "stored data and decoding frames; fix the problem (Settings) and restart.").arg(error));
    for (const QString &p : problems)
        qWarning("settings: %s", qPrintable(p));
    const int rc = app.exec();
    service.stop(QStringLiteral("application closing"));
    return rc;
}

} // namespace td::ui
