#include "window/gui.h"

#include "cli/cli.h"
#include "core/instance.h"
#include "core/settings.h"
#include "geo/geoservice.h"
#include "service/trackerservice.h"
#include "sms/smsservice.h"
#include "window/mainwindow.h"

#include <QApplication>
#include <QDir>
#include <QIcon>
#include <QMessageBox>

#include <cstdio>

namespace td::ui {

int runGui(int &argc, char **argv, const StartOptions &options) {
    QApplication app(argc, argv);
    app.setWindowIcon(QIcon(QStringLiteral(":/trackerdesk/trackerdesk.svg")));
    app.setDesktopFileName(QStringLiteral("trackerdesk"));
    AppSettings settings(options.settingsFile);

    QStringList problems;
    const ServiceConfig config = serviceConfig(settings, options, &problems);
    // One instance per data folder: a second start brings the running window to the front.
    const QString dataDir = config.dataDir.isEmpty() ? TrackerService::defaultDataDir() : config.dataDir;
    QString instanceError;
    if (const auto reply = sendToInstance(dataDir, {{QStringLiteral("command"), QStringLiteral("activate")}}, 3000)) {
        if (reply->value(QStringLiteral("ok")).toBool()) {
            cli::printOut(QStringLiteral("TrackerDesk is already running for %1; its window was brought to the front\n")
                              .arg(QDir::toNativeSeparators(dataDir)));
            return 0;
        }
        instanceError = reply->value(QStringLiteral("error")).toString();  // e.g. a headless instance owns the folder
    }
    InstanceServer instance;
    if (!instanceError.isEmpty() || !instance.listen(dataDir, &instanceError)) {
        cli::printError(instanceError);
        QMessageBox::critical(nullptr, QObject::tr("TrackerDesk"), instanceError);
        return 1;
    }
    TrackerService service;
    QString error;
    const bool running = service.start(config, &error);

    geo::GeoService geoService(&service);   // cell/Wi-Fi positions (app/geo)
    if (running)
        problems << geoService.startFromSettings(settings);
    std::unique_ptr<sms::SmsService> smsService;   // SMS console and modem; `trackerdesk sms send` hands over here
    if (running) {
        smsService = std::make_unique<sms::SmsService>(service.store(), &service);
        if (options.modemTrace)
            QObject::connect(smsService->modemLog(), &sms::ModemLog::lineAdded, smsService.get(), [](const sms::ModemLog::Entry &e) {
                std::fprintf(stderr, "%s\n", qPrintable(sms::ModemLog::formatLine(e)));
            });
        if (QString e; !smsService->start(sms::smsConfig(settings, options.modem, dataDir, &problems), &e))
            problems << e;
        instance.setHandler(QStringLiteral("sms-send"), [&smsService](const QJsonObject &r) { return smsService->handleSendRequest(r); });
    }
    MainWindow w(settings, options, &service);
    w.setGeoService(&geoService);
    w.setSmsService(smsService.get());
    w.show();
    QObject::connect(&instance, &InstanceServer::activateRequested, &w, [&w] {
        w.setWindowState((w.windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
        w.show();
        w.raise();
        w.activateWindow();
    });
    if (!running)
        QMessageBox::warning(&w, QObject::tr("TrackerDesk"),
                             QObject::tr("The tracker server could not start:\n%1\n\nThe window works for browsing "
                                         "stored data and decoding frames; fix the problem (Settings) and restart.").arg(error));
    for (const QString &p : problems)
        qWarning("settings: %s", qPrintable(p));
    const int rc = app.exec();
    geoService.stop();
    smsService.reset();   // a message in flight goes back to the queue
    service.stop(QStringLiteral("application closing"));
    return rc;
}

} // namespace td::ui
