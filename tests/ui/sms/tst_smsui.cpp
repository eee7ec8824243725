// The SMS console and its dialogs, offscreen: a conversation with a tracker made through
// the real services (TrackerService on loopback, SmsService with the pty fake modem): a
// command typed and sent from the pane, its status report, the tracker's reply with a
// position marked; the live part counter (GSM-7 / UCS-2); the command dialog's forms
// (prefilled server, validation, password, dangerous commands confirmed); Settings > Modem
// (PIN kept out of the settings file, Detect against the fake modem). A screenshot of the
// console is written to TD_BINARY_DIR/sms-console.png (or $TD_SCREENSHOT).
#include "fakemodem.h"

#include "dialogs/commanddialog.h"
#include "dialogs/modemsettingspage.h"
#include "docks/smsdock.h"
#include "service/trackerservice.h"
#include "sms/conversationmodel.h"
#include "sms/smsservice.h"

#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QScrollBar>
#include <QTabWidget>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace td;
using namespace td::proto::commands;

Q_DECLARE_METATYPE(td::proto::commands::Family)

namespace {

constexpr int kWait = 15000;
const QString kCatImei = QStringLiteral("864717003283581");
const QString kCatPhone = QStringLiteral("+491701234567");

sms::SmsConfig fastConfig(const QString &port) {
    sms::SmsConfig c;
    c.modem.port = port;
    c.modem.commandTimeoutMs = 700;
    c.modem.sendTimeoutMs = 4000;
    c.modem.reconnectIntervalMs = 150;
    c.modem.simBusyRetryMs = 50;
    c.modem.readyTimeoutMs = 5000;
    c.expireCheckMs = 100;
    return c;
}

} // namespace

class TestSmsUi : public QObject {
    Q_OBJECT
private slots:
    void consoleShowsConversation();
    void modemLogTab();
    void partCounter_data();
    void partCounter();
    void commandDialogText_data();
    void commandDialogText();
    void commandDialogValidates();
    void commandDialogConfirmsDangerous();
    void modemSettingsPage();
};

void TestSmsUi::consoleShowsConversation() {
    QTemporaryDir dir;
    test::FakeModem fake;
    QString error;
    QVERIFY2(fake.start(&error), qPrintable(error));
    TrackerService service;
    ServiceConfig config;
    config.dataDir = dir.path();
    config.server.listeners = {server::ListenSpec{QHostAddress::LocalHost, 0, {}}};
    QVERIFY2(service.start(config, &error), qPrintable(error));
    store::Device cat;
    cat.imei = kCatImei;
    cat.name = QStringLiteral("Cat");
    cat.phone = kCatPhone;
    QCOMPARE(service.addDevice(cat), QString());
    const qint64 catId = service.store().deviceByImei(kCatImei)->id;
    auto smsOwner = std::make_unique<sms::SmsService>(service.store(), &service);
    sms::SmsService &smsService = *smsOwner;
    QVERIFY2(smsService.start(fastConfig(fake.portPath()), &error), qPrintable(error));

    ui::SmsPane pane;
    pane.resize(460, 620);
    pane.setServices(&smsService, &service);
    pane.setServerAddress(QStringLiteral("192.0.2.10"), 5023);
    pane.show();
    QTRY_VERIFY_WITH_TIMEOUT(pane.modemLabel()->text().contains(QLatin1String("ready")), kWait);
    QVERIFY2(pane.modemLabel()->text().contains(QLatin1String("Fake Telecom")), qPrintable(pane.modemLabel()->text()));
    QVERIFY(!pane.composeEdit()->isEnabled());   // nobody chosen yet

    pane.showDevice(catId);
    QCOMPARE(pane.currentDevice(), catId);
    QVERIFY(pane.targetBox()->currentText().startsWith(QStringLiteral("Cat — +491701234567")));
    QVERIFY(pane.composeEdit()->isEnabled());
    QVERIFY(!pane.sendButton()->isEnabled());
    QTest::keyClicks(pane.composeEdit(), QStringLiteral("WHERE#"));
    QVERIFY(pane.sendButton()->isEnabled());
    QTest::mouseClick(pane.sendButton(), Qt::LeftButton);
    QVERIFY2(pane.feedbackLabel()->text().contains(QLatin1String("queued")), qPrintable(pane.feedbackLabel()->text()));
    QVERIFY(pane.composeEdit()->text().isEmpty());
    sms::ConversationModel *model = pane.model();
    QCOMPARE(model->rowCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(fake.sent().size(), 1, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(model->at(0).state, sms::State::Sent, kWait);
    fake.statusReport(fake.sent().first().messageReference, 0x00, kCatPhone);
    QTRY_COMPARE_WITH_TIMEOUT(model->at(0).state, sms::State::Delivered, kWait);
    QVERIFY(model->index(0).data(sms::ConversationModel::StatusTextRole).toString().contains(QStringLiteral("sms · delivered")));

    // The tracker answers (the JM01 manual's WHERE# reply): a received bubble with its position on the map.
    fake.deliverText(kCatPhone, QStringLiteral("Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28"));
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, kWait);
    QCOMPARE(model->index(1).data(sms::ConversationModel::SentRole).toBool(), false);
    QCOMPARE(model->index(1).data(sms::ConversationModel::PositionsRole).toInt(), 1);
    QVERIFY(model->index(1).data(sms::ConversationModel::StatusTextRole).toString().contains(QLatin1String("1 position on the map")));
    QVERIFY(service.device(catId)->lastFix.has_value());
    QCOMPARE(service.device(catId)->lastFix->position.source, proto::PositionSource::Sms);

    // A message from a number without a device gets its own entry; the cat's conversation is unchanged.
    fake.deliverText(QStringLiteral("+447700900123"), QStringLiteral("Who is this?"));
    QTRY_VERIFY_WITH_TIMEOUT(pane.targetBox()->findText(QStringLiteral("+447700900123")) >= 0, kWait);
    QCOMPARE(model->rowCount(), 2);

    // Offline tracker + GPRS channel: refused with the reason, shown in the pane; queued third message via SMS.
    pane.channelBox()->setCurrentIndex(pane.channelBox()->findData(int(sms::ChannelChoice::Gprs)));
    pane.composeEdit()->setText(QStringLiteral("STATUS#"));
    QVERIFY(!pane.send().isEmpty());
    QVERIFY2(pane.feedbackLabel()->text().contains(QLatin1String("offline")), qPrintable(pane.feedbackLabel()->text()));
    QCOMPARE(model->rowCount(), 2);
    fake.setMuted(true);   // the modem stops answering: the next message stays in the outbox
    pane.channelBox()->setCurrentIndex(pane.channelBox()->findData(int(sms::ChannelChoice::Auto)));
    QCOMPARE(pane.send(), QString());
    QCOMPARE(model->rowCount(), 3);

    QTest::qWait(300);   // let the view lay the bubbles out
    const QImage shot = pane.grab().toImage();
    QVERIFY(!shot.isNull());
    // The bubbles are drawn: the sent colour and the received colour are both in the view.
    const QImage view = pane.conversationView()->viewport()->grab().toImage();
    int sentPixels = 0, receivedPixels = 0;
    for (int y = 0; y < view.height(); ++y)
        for (int x = 0; x < view.width(); ++x) {
            const QRgb c = view.pixel(x, y);
            sentPixels += c == qRgb(0xd8, 0xea, 0xff);
            receivedPixels += c == qRgb(0xef, 0xef, 0xef);
        }
    QVERIFY2(sentPixels > 500 && receivedPixels > 500, qPrintable(QStringLiteral("%1 / %2").arg(sentPixels).arg(receivedPixels)));
    const QString path = qEnvironmentVariableIsSet("TD_SCREENSHOT") ? qEnvironmentVariable("TD_SCREENSHOT")
                                                                    : QStringLiteral(TD_BINARY_DIR "/sms-console.png");
    QVERIFY(shot.save(path));
    fake.setMuted(false);
    pane.setServices(nullptr, nullptr);
    smsOwner.reset();   // as gui.cpp does: the SMS service goes before the store closes
    service.stop();
}

// The console's "Modem log" tab: the AT dialogue of the real engine with the fake modem,
// following new lines, Copy (all, or the selected lines), Clear.
void TestSmsUi::modemLogTab() {
    QTemporaryDir dir;
    test::FakeModem fake;
    QString error;
    QVERIFY2(fake.start(&error), qPrintable(error));
    store::Store store;
    QVERIFY2(store.open(dir.filePath(QStringLiteral("trackerdesk.db"))), qPrintable(store.lastError()));
    auto smsOwner = std::make_unique<sms::SmsService>(store);
    QVERIFY2(smsOwner->start(fastConfig(fake.portPath()), &error), qPrintable(error));

    ui::SmsPane pane;
    pane.resize(520, 420);
    pane.setServices(smsOwner.get(), nullptr);
    pane.show();
    QCOMPARE(pane.tabs()->count(), 2);
    QCOMPARE(pane.tabs()->tabText(1), QStringLiteral("Modem log"));
    pane.tabs()->setCurrentIndex(1);
    QTRY_VERIFY_WITH_TIMEOUT(pane.modemLabel()->text().contains(QLatin1String("ready")), kWait);
    QListView *view = pane.modemLogView();
    QAbstractItemModel *model = view->model();
    QVERIFY(model);
    auto shown = [model] {
        QStringList out;
        for (int i = 0; i < model->rowCount(); ++i)
            out << model->index(i, 0).data().toString();
        return out.join(QLatin1Char('\n'));
    };
    QVERIFY2(shown().contains(QLatin1String("> AT+CPMS")), qPrintable(shown()));
    QVERIFY2(shown().contains(QLatin1String("-- ready")), qPrintable(shown()));

    // Copy without a selection: everything.
    QTest::mouseClick(pane.copyLogButton(), Qt::LeftButton);
    const QString copied = QGuiApplication::clipboard()->text();
    QCOMPARE(copied.count(QLatin1Char('\n')), model->rowCount());
    QVERIFY(copied.contains(QLatin1String("> AT+CPMS")));
    // One line selected: that line.
    view->selectionModel()->select(model->index(1, 0), QItemSelectionModel::ClearAndSelect);
    QTest::mouseClick(pane.copyLogButton(), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), model->index(1, 0).data().toString() + QLatin1Char('\n'));

    // Clear, then a message: only the new dialogue, and the view follows it to the end.
    QTest::mouseClick(pane.clearLogButton(), Qt::LeftButton);
    QCOMPARE(model->rowCount(), 0);
    const sms::SendResult r = smsOwner->send(kCatPhone, QStringLiteral("STATUS#"));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QTRY_VERIFY_WITH_TIMEOUT(shown().contains(QLatin1String("< +CMGS: ")), kWait);
    QVERIFY2(!shown().contains(QLatin1String("AT+CPMS?")), qPrintable(shown()));
    for (int i = 0; i < 60; ++i)   // enough lines to scroll
        smsOwner->modemLog()->addNote(QStringLiteral("note %1").arg(i));
    QTest::qWait(50);
    const QScrollBar *bar = view->verticalScrollBar();
    QVERIFY(bar->maximum() > 0);
    QCOMPARE(bar->value(), bar->maximum());
    QVERIFY(view->visualRect(model->index(model->rowCount() - 1, 0)).intersects(view->viewport()->rect()));

    QTest::qWait(100);
    const QImage shot = pane.grab().toImage();
    QVERIFY(!shot.isNull());
    QVERIFY(shot.save(QStringLiteral(TD_BINARY_DIR "/sms-modem-log.png")));
    pane.setServices(nullptr, nullptr);
    QVERIFY(!view->model());
    smsOwner.reset();
}

void TestSmsUi::partCounter_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("counter");
    QTest::newRow("short") << "WHERE#" << "6/160 · 1 SMS · GSM-7";
    QTest::newRow("160") << QString(160, QLatin1Char('a')) << "160/160 · 1 SMS · GSM-7";
    QTest::newRow("161") << QString(161, QLatin1Char('a')) << "161/306 · 2 SMS · GSM-7";
    QTest::newRow("escape counts twice") << "{}" << "4/160 · 1 SMS · GSM-7";
    QTest::newRow("ucs2") << QStringLiteral("Привет") << "6/70 · 1 SMS · UCS-2";
    QTest::newRow("ucs2 two parts") << QString(71, QChar(0x4e2d)) << "71/134 · 2 SMS · UCS-2";
}

void TestSmsUi::partCounter() {
    QFETCH(QString, text);
    QFETCH(QString, counter);
    ui::SmsPane pane;
    pane.composeEdit()->setText(text);
    QCOMPARE(pane.counterLabel()->text(), counter);
    pane.composeEdit()->clear();
    QCOMPARE(pane.counterLabel()->text(), QString());
}

void TestSmsUi::commandDialogText_data() {
    QTest::addColumn<Family>("family");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("command");
    QTest::addColumn<QStringList>("values");   // id=value
    QTest::addColumn<QString>("expected");
    QTest::newRow("gt06 server prefilled") << Family::Gt06 << "" << "server" << QStringList{} << "SERVER,0,192.0.2.10,5023,0#";
    QTest::newRow("gt06 server domain") << Family::Gt06 << "" << "server" << QStringList{QStringLiteral("host=track.example.org")}
                                        << "SERVER,1,track.example.org,5023,0#";
    QTest::newRow("gt06 apn") << Family::Gt06 << "" << "apn" << QStringList{QStringLiteral("apn=internet")} << "APN,internet#";
    QTest::newRow("gt06 interval default") << Family::Gt06 << "" << "interval" << QStringList{} << "TIMER,60#";
    QTest::newRow("gt06 timezone") << Family::Gt06 << "" << "timezone" << QStringList{QStringLiteral("tz=+8")} << "GMT,E,8,0#";
    QTest::newRow("gt06 where") << Family::Gt06 << "" << "where" << QStringList{} << "WHERE#";
    QTest::newRow("tk102 server device password") << Family::Tk102 << "888888" << "server" << QStringList{}
                                                  << "adminip888888 192.0.2.10 5023";
    QTest::newRow("tk102 default password") << Family::Tk102 << "" << "apn" << QStringList{QStringLiteral("apn=internet")}
                                            << "apn123456 internet";
    QTest::newRow("topin interval") << Family::Topin << "" << "interval" << QStringList{QStringLiteral("seconds=300")}
                                    << "pw,123456,upload,300#";
}

void TestSmsUi::commandDialogText() {
    QFETCH(Family, family);
    QFETCH(QString, password);
    QFETCH(QString, command);
    QFETCH(QStringList, values);
    QFETCH(QString, expected);
    ui::CommandDialog dlg(family, password, QStringLiteral("192.0.2.10"), 5023);
    QCOMPARE(dlg.family(), family);
    QVERIFY(dlg.selectCommand(command));
    for (const QString &kv : values)
        dlg.setValue(kv.section(QLatin1Char('='), 0, 0), kv.section(QLatin1Char('='), 1));
    QVERIFY2(dlg.error().isEmpty(), qPrintable(dlg.error()));
    QCOMPARE(dlg.text(), expected);
    QCOMPARE(dlg.previewLabel()->text(), expected);
    dlg.accept();
    QCOMPARE(dlg.result(), int(QDialog::Accepted));
}

void TestSmsUi::commandDialogValidates() {
    ui::CommandDialog dlg(Family::Gt06, {}, QStringLiteral("192.0.2.10"), 5023);
    QVERIFY(dlg.selectCommand(QStringLiteral("server")));
    QLineEdit *port = dlg.editor(QStringLiteral("port"));
    QVERIFY(port);
    QCOMPARE(port->text(), QStringLiteral("5023"));
    QCOMPARE(dlg.editor(QStringLiteral("host"))->text(), QStringLiteral("192.0.2.10"));
    port->setText(QStringLiteral("70000"));
    QVERIFY(dlg.text().isEmpty());
    QVERIFY2(dlg.error().contains(QLatin1String("70000 is not between 1 and 65535")), qPrintable(dlg.error()));
    QVERIFY(dlg.findChild<QLabel *>(QStringLiteral("problem"))->text().contains(QLatin1String("70000")));
    dlg.accept();
    QVERIFY(dlg.result() != QDialog::Accepted);
    port->setText(QStringLiteral("7018"));
    QCOMPARE(dlg.text(), QStringLiteral("SERVER,0,192.0.2.10,7018,0#"));
    dlg.show();
    QVERIFY(dlg.grab().save(QStringLiteral(TD_BINARY_DIR "/command-dialog.png")));   // for a look
    // Another family keeps the chosen command where it has one.
    dlg.setFamily(Family::Tk102);
    QCOMPARE(dlg.commandId(), QStringLiteral("server"));
    QVERIFY(dlg.passwordEdit()->isEnabled());
    QCOMPARE(dlg.text(), QStringLiteral("adminip123456 192.0.2.10 5023"));
    dlg.setValue(QStringLiteral("host"), QStringLiteral("track.example.org"));
    QVERIFY(dlg.error().contains(QLatin1String("cannot resolve names")));
}

void TestSmsUi::commandDialogConfirmsDangerous() {
    ui::CommandDialog dlg(Family::Gt06, {}, {}, 0);
    QVERIFY(dlg.selectCommand(QStringLiteral("factory")));
    QCOMPARE(dlg.text(), QStringLiteral("FACTORY#"));
    QStringList asked;
    bool answer = false;
    dlg.setConfirmation([&](const QString &q) {
        asked << q;
        return answer;
    });
    dlg.accept();
    QCOMPARE(asked.size(), 1);
    QVERIFY(asked.first().contains(QLatin1String("FACTORY#")));
    QVERIFY(dlg.result() != QDialog::Accepted);
    answer = true;
    dlg.accept();
    QCOMPARE(dlg.result(), int(QDialog::Accepted));
    // A harmless command is not asked about.
    ui::CommandDialog plain(Family::Gt06, {}, {}, 0);
    plain.selectCommand(QStringLiteral("where"));
    plain.setConfirmation([&](const QString &q) {
        asked << q;
        return false;
    });
    plain.accept();
    QCOMPARE(plain.result(), int(QDialog::Accepted));
    QCOMPARE(asked.size(), 2);
}

void TestSmsUi::modemSettingsPage() {
    QTemporaryDir dir;
    test::FakeModem fake;
    QString error;
    QVERIFY2(fake.start(&error), qPrintable(error));
    const QString ini = dir.filePath(QStringLiteral("settings.ini"));
    AppSettings settings(ini);
    ui::ModemSettingsPage page(settings);
    page.setDataDir(dir.path());
    QSignalSpy changed(&page, &ui::ModemSettingsPage::modemChanged);
    page.portBox()->setEditText(fake.portPath());
    page.baudBox()->setCurrentIndex(page.baudBox()->findData(57600));
    page.pinEdit()->setText(QStringLiteral("12x4"));
    QVERIFY(page.validate().contains(QLatin1String("PIN")));
    page.pinEdit()->setText(QStringLiteral("1234"));
    QCOMPARE(page.validate(), QString());
    QCOMPARE(page.save(), QString());
    QCOMPARE(changed.size(), 1);
    const auto config = changed.first().first().value<modem::ModemConfig>();
    QCOMPARE(config.port, fake.portPath());
    QCOMPARE(config.baud, 57600);
    QCOMPARE(config.pin, QStringLiteral("1234"));
    settings.raw().sync();
    QFile f(ini);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray iniText = f.readAll();
    QVERIFY(iniText.contains("57600"));
    QVERIFY(!iniText.contains("1234"));
    QCOMPARE(page.save(), QString());   // nothing changed: no signal
    QCOMPARE(changed.size(), 1);

    // Detect talks to the port without blocking the GUI thread.
    QSignalSpy detected(&page, &ui::ModemSettingsPage::detectFinished);
    page.baudBox()->setCurrentIndex(page.baudBox()->findData(115200));
    page.detect();
    QVERIFY(page.detecting());
    QVERIFY(!page.detectButton()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(detected.size(), 1, kWait);
    QVERIFY2(detected.first().first().toBool(), qPrintable(page.detectLabel()->text()));
    QVERIFY2(page.detectLabel()->text().contains(QLatin1String("A modem answers")), qPrintable(page.detectLabel()->text()));
    QVERIFY(page.detectButton()->isEnabled());
    // Nothing there: a clear "no answer".
    page.portBox()->setEditText(dir.filePath(QStringLiteral("ttyNOTHING")));
    page.detect();
    QTRY_COMPARE_WITH_TIMEOUT(detected.size(), 2, kWait);
    QVERIFY(!detected.last().first().toBool());
    QVERIFY2(page.detectLabel()->text().contains(QLatin1String("No modem answer")), qPrintable(page.detectLabel()->text()));

    // A second page reads back what was saved.
    ui::ModemSettingsPage again(settings);
    again.setDataDir(dir.path());
    QCOMPARE(again.config().port, fake.portPath());
    QCOMPARE(again.config().pin, QStringLiteral("1234"));
}

QTEST_MAIN(TestSmsUi)
#include "tst_smsui.moc"
