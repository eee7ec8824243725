// Single instance per data folder (app/core/instance.h): one owner per folder, the second
// one is refused; "activate" and registered handlers answer over the local socket; a
// folder left behind by a crashed owner is taken over; bad requests get an error answer.
// The "other process" cases run this same executable as a child (TD_INSTANCE_CHILD=serve
// or crash), so a real second process and a real crash (no destructors) are exercised.
#include "core/instance.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

using td::InstanceServer;

namespace {

// Runs fn on another thread while this thread keeps its event loop turning (the server
// under test lives here and must answer). Bounded by timeoutMs.
template <typename Fn>
auto onThread(Fn fn, int timeoutMs = 15000) {
    decltype(fn()) result{};
    std::atomic<bool> done{false};
    std::thread t([&] {
        result = fn();
        done = true;
    });
    QDeadlineTimer deadline(timeoutMs);
    while (!done && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    t.join();  // fn itself is bounded (socket timeouts below timeoutMs)
    return result;
}

struct Sent {
    std::optional<QJsonObject> reply;
    QString error;
    qint64 ms = 0;
};

Sent send(const QString &dir, const QJsonObject &request, int timeoutMs = 3000) {
    return onThread([=] {
        Sent s;
        QElapsedTimer t;
        t.start();
        s.reply = td::sendToInstance(dir, request, timeoutMs, &s.error);
        s.ms = t.elapsed();
        return s;
    });
}

// Writes raw bytes to the instance socket and returns every answer line until the server
// closes or waitMs passes.
QList<QByteArray> rawExchange(const QString &dir, const QByteArray &bytes, int expectLines, int waitMs = 5000) {
    return onThread([=] {
        QList<QByteArray> lines;
        QLocalSocket s;
        s.connectToServer(InstanceServer::socketName(dir));
        if (!s.waitForConnected(2000))
            return lines;
        s.write(bytes);
        s.waitForBytesWritten(2000);
        QByteArray buf;
        QDeadlineTimer deadline(waitMs);
        while (lines.size() < expectLines && !deadline.hasExpired()) {
            if (!s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())))
                && s.state() != QLocalSocket::ConnectedState && s.bytesAvailable() == 0)
                break;
            buf += s.readAll();
            qsizetype nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
                lines << buf.left(nl);
                buf.remove(0, nl + 1);
            }
        }
        return lines;
    });
}

QJsonObject parse(const QByteArray &line) { return QJsonDocument::fromJson(line).object(); }

// The child process side: claim the folder, answer "echo" and "quit", or crash right away.
int childMain(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    const QString mode = qEnvironmentVariable("TD_INSTANCE_CHILD");
    const QString dir = qEnvironmentVariable("TD_INSTANCE_DIR");
    InstanceServer server;
    QString error;
    if (!server.listen(dir, &error)) {
        std::printf("error: %s\n", qPrintable(error));
        return 2;
    }
    server.setHandler(QStringLiteral("echo"), [](const QJsonObject &r) {
        return QJsonObject{{QStringLiteral("ok"), true}, {QStringLiteral("echo"), r.value(QStringLiteral("text"))},
                           {QStringLiteral("pid"), QCoreApplication::applicationPid()}};
    });
    server.setHandler(QStringLiteral("quit"), [](const QJsonObject &) {
        QTimer::singleShot(50, qApp, &QCoreApplication::quit);
        return QJsonObject{{QStringLiteral("ok"), true}};
    });
    int activations = 0;
    QObject::connect(&server, &InstanceServer::activateRequested, [&] { ++activations; });
    std::printf("ready\n");
    std::fflush(stdout);
    if (mode == QLatin1String("crash"))
        std::_Exit(3);  // like a crash: no destructors, the lock file and socket stay behind
    QTimer::singleShot(30000, &app, &QCoreApplication::quit);  // never outlive the test
    app.exec();
    return 10 + activations;
}

} // namespace

class TestInstance : public QObject {
    Q_OBJECT
private slots:
    void socketName_data();
    void socketName();
    void secondListenFails();
    void differentFoldersCoexist();
    void activateReachesFirst();
    void handlerRoundTrip();
    void malformedRequest_data();
    void malformedRequest();
    void oversizedRequest();
    void severalRequestsOnOneConnection();
    void noInstance();
    void releasedOnDestruction();
    void liveOwnerKeptWhateverAge();
    void lockFromAnotherHost_data();
    void lockFromAnotherHost();
    void otherProcessOwns();
    void staleSocketReclaimed();

private:
    bool startChild(QProcess &p, const QString &mode, const QString &dir) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TD_INSTANCE_CHILD"), mode);
        env.insert(QStringLiteral("TD_INSTANCE_DIR"), dir);
        p.setProcessEnvironment(env);
        p.start(QCoreApplication::applicationFilePath(), {});
        if (!p.waitForStarted(10000))
            return false;
        QDeadlineTimer deadline(10000);
        while (!p.canReadLine() && !deadline.hasExpired() && p.state() == QProcess::Running)
            p.waitForReadyRead(200);
        return p.canReadLine() && p.readLine().trimmed() == "ready";
    }
};

void TestInstance::socketName_data() {
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<bool>("same");
    const QString base = QDir::tempPath() + QStringLiteral("/td-instance-name");
    QTest::newRow("same path") << base << base << true;
    QTest::newRow("trailing slash") << base << base + QStringLiteral("/") << true;
    QTest::newRow("dot segments") << base << base + QStringLiteral("/sub/..") << true;
    QTest::newRow("other folder") << base << base + QStringLiteral("-2") << false;
    QTest::newRow("sub folder") << base << base + QStringLiteral("/sub") << false;
}

void TestInstance::socketName() {
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(bool, same);
    const QString na = InstanceServer::socketName(a), nb = InstanceServer::socketName(b);
    QCOMPARE(na == nb, same);
    QVERIFY(na.startsWith(QLatin1String("trackerdesk-")));
    QVERIFY2(na.size() <= 40, qPrintable(na));  // short: fits Unix socket path limits anywhere
    for (QChar c : na)
        QVERIFY2(c.isLetterOrNumber() || c == QLatin1Char('-'), qPrintable(na));
    QCOMPARE(InstanceServer::socketName(a), na);  // stable
}

void TestInstance::secondListenFails() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    InstanceServer first, second;
    QString error;
    QVERIFY2(first.listen(dir.path(), &error), qPrintable(error));
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("trackerdesk.lock"))));
    QVERIFY(!second.listen(dir.path(), &error));
    QVERIFY2(error.contains(QLatin1String("already running")), qPrintable(error));
    QVERIFY2(error.contains(QDir::toNativeSeparators(dir.path())), qPrintable(error));
    QVERIFY2(error.contains(QString::number(QCoreApplication::applicationPid())), qPrintable(error));
    // The same folder named differently is the same folder.
    InstanceServer third;
    QVERIFY(!third.listen(dir.path() + QStringLiteral("/./"), &error));
    // The refused ones did not disturb the owner.
    const Sent s = send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}});
    QVERIFY2(s.reply, qPrintable(s.error));
    QCOMPARE(s.reply->value(QStringLiteral("ok")).toBool(), true);
}

void TestInstance::differentFoldersCoexist() {
    QTemporaryDir a, b;
    InstanceServer sa, sb;
    QString error;
    QVERIFY2(sa.listen(a.path(), &error), qPrintable(error));
    QVERIFY2(sb.listen(b.path(), &error), qPrintable(error));
    QSignalSpy spyA(&sa, &InstanceServer::activateRequested), spyB(&sb, &InstanceServer::activateRequested);
    QVERIFY(send(b.path(), {{QStringLiteral("command"), QStringLiteral("activate")}}).reply);
    QCOMPARE(spyA.count(), 0);
    QCOMPARE(spyB.count(), 1);
}

void TestInstance::activateReachesFirst() {
    QTemporaryDir dir;
    InstanceServer first;
    QString error;
    QVERIFY2(first.listen(dir.path(), &error), qPrintable(error));
    QSignalSpy spy(&first, &InstanceServer::activateRequested);
    const Sent s = send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}});
    QVERIFY2(s.reply, qPrintable(s.error));
    QCOMPARE(s.reply->value(QStringLiteral("ok")).toBool(), true);
    QCOMPARE(spy.count(), 1);
    QVERIFY2(s.ms < 2000, QByteArray::number(s.ms));
}

void TestInstance::handlerRoundTrip() {
    QTemporaryDir dir;
    InstanceServer server;
    QString error;
    QVERIFY2(server.listen(dir.path(), &error), qPrintable(error));
    QJsonObject seen;
    server.setHandler(QStringLiteral("sms-send"), [&seen](const QJsonObject &r) {
        seen = r;
        return QJsonObject{{QStringLiteral("queued"), 2}, {QStringLiteral("to"), r.value(QStringLiteral("to"))}};
    });
    server.setHandler(QStringLiteral("fails"), [](const QJsonObject &) {
        return QJsonObject{{QStringLiteral("error"), QStringLiteral("modem not ready")}};
    });
    const QJsonObject req{{QStringLiteral("command"), QStringLiteral("sms-send")}, {QStringLiteral("to"), QStringLiteral("+4915112345678")},
                          {QStringLiteral("text"), QStringLiteral("WHERE# ü€ \"quoted\"\nsecond line")}};
    const Sent s = send(dir.path(), req);
    QVERIFY2(s.reply, qPrintable(s.error));
    QCOMPARE(seen, req);  // the handler got the request as sent (unicode, quotes, newline)
    QCOMPARE(s.reply->value(QStringLiteral("ok")).toBool(), true);  // added when the handler has none
    QCOMPARE(s.reply->value(QStringLiteral("queued")).toInt(), 2);
    QCOMPARE(s.reply->value(QStringLiteral("to")).toString(), QStringLiteral("+4915112345678"));

    const Sent f = send(dir.path(), {{QStringLiteral("command"), QStringLiteral("fails")}});
    QVERIFY2(f.reply, qPrintable(f.error));
    QCOMPARE(f.reply->value(QStringLiteral("ok")).toBool(), false);
    QCOMPARE(f.reply->value(QStringLiteral("error")).toString(), QStringLiteral("modem not ready"));

    // Removing the handler makes the command unknown again.
    server.setHandler(QStringLiteral("sms-send"), {});
    const Sent g = send(dir.path(), req);
    QVERIFY2(g.reply, qPrintable(g.error));
    QCOMPARE(g.reply->value(QStringLiteral("ok")).toBool(), false);
    QVERIFY(g.reply->value(QStringLiteral("error")).toString().contains(QLatin1String("unknown command 'sms-send'")));
}

void TestInstance::malformedRequest_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("error");
    QTest::newRow("not json") << QByteArray("hello\n") << QStringLiteral("not JSON");
    QTest::newRow("truncated json") << QByteArray("{\"command\": \"activ\n") << QStringLiteral("not JSON");
    QTest::newRow("array") << QByteArray("[\"activate\"]\n") << QStringLiteral("not a JSON object");
    QTest::newRow("string") << QByteArray("\"activate\"\n") << QStringLiteral("not JSON");  // no top-level scalars
    QTest::newRow("null") << QByteArray("null\n") << QStringLiteral("not JSON");
    QTest::newRow("no command") << QByteArray("{\"cmd\":\"activate\"}\n") << QStringLiteral("no \"command\"");
    QTest::newRow("command number") << QByteArray("{\"command\":5}\n") << QStringLiteral("no \"command\"");
    QTest::newRow("empty command") << QByteArray("{\"command\":\"\"}\n") << QStringLiteral("no \"command\"");
    QTest::newRow("unknown") << QByteArray("{\"command\":\"format-disk\"}\n") << QStringLiteral("unknown command 'format-disk'");
    QTest::newRow("binary") << QByteArray("\x00\xff\xfe{\n", 5) << QStringLiteral("not JSON");
}

void TestInstance::malformedRequest() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, error);
    QTemporaryDir dir;
    InstanceServer server;
    QString e;
    QVERIFY2(server.listen(dir.path(), &e), qPrintable(e));
    QSignalSpy spy(&server, &InstanceServer::activateRequested);
    const QList<QByteArray> lines = rawExchange(dir.path(), bytes, 1);
    QCOMPARE(lines.size(), 1);
    const QJsonObject r = parse(lines.first());
    QCOMPARE(r.value(QStringLiteral("ok")).toBool(true), false);
    QVERIFY2(r.value(QStringLiteral("error")).toString().contains(error), lines.first().constData());
    QCOMPARE(spy.count(), 0);
    // The server is still fine afterwards.
    QVERIFY(send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}}).reply);
}

void TestInstance::oversizedRequest() {
    QTemporaryDir dir;
    InstanceServer server;
    QString e;
    QVERIFY2(server.listen(dir.path(), &e), qPrintable(e));
    // 1.5 MiB without a newline: answered with an error and the connection closed.
    QByteArray big = "{\"command\":\"activate\",\"pad\":\"" + QByteArray(1536 * 1024, 'x');
    const QList<QByteArray> lines = rawExchange(dir.path(), big, 2);
    QCOMPARE(lines.size(), 1);
    QVERIFY2(parse(lines.first()).value(QStringLiteral("error")).toString().contains(QLatin1String("too large")), lines.first().constData());
    QVERIFY(send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}}).reply);
}

void TestInstance::severalRequestsOnOneConnection() {
    QTemporaryDir dir;
    InstanceServer server;
    QString e;
    QVERIFY2(server.listen(dir.path(), &e), qPrintable(e));
    server.setHandler(QStringLiteral("echo"), [](const QJsonObject &r) {
        return QJsonObject{{QStringLiteral("ok"), true}, {QStringLiteral("n"), r.value(QStringLiteral("n"))}};
    });
    QSignalSpy spy(&server, &InstanceServer::activateRequested);
    const QList<QByteArray> lines = rawExchange(
        dir.path(), "{\"command\":\"echo\",\"n\":1}\n\n{\"command\":\"activate\"}\nnope\n{\"command\":\"echo\",\"n\":3}\n", 4);
    QCOMPARE(lines.size(), 4);  // the blank line is skipped, the bad one answered in order
    QCOMPARE(parse(lines[0]).value(QStringLiteral("n")).toInt(), 1);
    QCOMPARE(parse(lines[1]).value(QStringLiteral("ok")).toBool(), true);
    QCOMPARE(parse(lines[2]).value(QStringLiteral("ok")).toBool(true), false);
    QCOMPARE(parse(lines[3]).value(QStringLiteral("n")).toInt(), 3);
    QCOMPARE(spy.count(), 1);
}

void TestInstance::noInstance() {
    QTemporaryDir dir;
    const Sent s = send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}}, 2000);
    QVERIFY(!s.reply);
    QVERIFY2(s.error.contains(QLatin1String("no TrackerDesk instance")), qPrintable(s.error));
    QVERIFY2(s.ms < 1500, QByteArray::number(s.ms));  // refused at once, not a timeout
}

void TestInstance::releasedOnDestruction() {
    QTemporaryDir dir;
    QString error;
    {
        InstanceServer first;
        QVERIFY2(first.listen(dir.path(), &error), qPrintable(error));
    }
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("trackerdesk.lock"))));
    QVERIFY(!send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}}, 1000).reply);
    InstanceServer next;
    QVERIFY2(next.listen(dir.path(), &error), qPrintable(error));
}

void TestInstance::liveOwnerKeptWhateverAge() {
    QTemporaryDir dir;
    InstanceServer owner;
    QString error;
    QVERIFY2(owner.listen(dir.path(), &error), qPrintable(error));
    // A server that has run for a day: its lock file is old, but its process holds it.
    QFile lock(dir.filePath(QStringLiteral("trackerdesk.lock")));
    QVERIFY(lock.open(QIODevice::ReadWrite));
    QVERIFY(lock.setFileTime(QDateTime::currentDateTimeUtc().addDays(-1), QFileDevice::FileModificationTime));
    lock.close();
    InstanceServer second;
    QVERIFY(!second.listen(dir.path(), &error));
    QVERIFY2(error.contains(QLatin1String("already running")), qPrintable(error));
}

void TestInstance::lockFromAnotherHost_data() {
    QTest::addColumn<int>("ageSeconds");
    QTest::addColumn<bool>("takenOver");
    QTest::newRow("fresh: may be alive there") << 2 << false;
    QTest::newRow("old: taken over") << 3600 << true;
}

void TestInstance::lockFromAnotherHost() {
    QFETCH(int, ageSeconds);
    QFETCH(bool, takenOver);
    QTemporaryDir dir;
    QFile lock(dir.filePath(QStringLiteral("trackerdesk.lock")));
    QVERIFY(lock.open(QIODevice::WriteOnly));
    lock.write("4242\ntrackerdesk\nanother-host.example\n");
    QVERIFY(lock.flush());  // before the time is set: a later write would touch it again
    QVERIFY(lock.setFileTime(QDateTime::currentDateTimeUtc().addSecs(-ageSeconds), QFileDevice::FileModificationTime));
    lock.close();
    InstanceServer server;
    QString error;
    QCOMPARE(server.listen(dir.path(), &error), takenOver);
    if (!takenOver)
        QVERIFY2(error.contains(QLatin1String("process 4242 on another-host.example")), qPrintable(error));
}

void TestInstance::otherProcessOwns() {
    QTemporaryDir dir;
    QProcess child;
    QVERIFY2(startChild(child, QStringLiteral("serve"), dir.path()), child.readAllStandardOutput().constData());
    InstanceServer local;
    QString error;
    QVERIFY(!local.listen(dir.path(), &error));
    QVERIFY2(error.contains(QLatin1String("already running")), qPrintable(error));
    QVERIFY2(error.contains(QString::number(child.processId())), qPrintable(error));

    const Sent a = send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}});
    QVERIFY2(a.reply && a.reply->value(QStringLiteral("ok")).toBool(), qPrintable(a.error));
    const Sent e = send(dir.path(), {{QStringLiteral("command"), QStringLiteral("echo")}, {QStringLiteral("text"), QStringLiteral("ping ✓")}});
    QVERIFY2(e.reply, qPrintable(e.error));
    QCOMPARE(e.reply->value(QStringLiteral("echo")).toString(), QStringLiteral("ping ✓"));
    QCOMPARE(qint64(e.reply->value(QStringLiteral("pid")).toDouble()), child.processId());

    QVERIFY(send(dir.path(), {{QStringLiteral("command"), QStringLiteral("quit")}}).reply);
    QVERIFY(child.waitForFinished(10000));
    QCOMPARE(child.exitCode(), 11);  // one activation seen by the child
    // Gone cleanly: the folder is free again.
    QVERIFY2(local.listen(dir.path(), &error), qPrintable(error));
}

void TestInstance::staleSocketReclaimed() {
    QTemporaryDir dir;
    QProcess child;
    QVERIFY2(startChild(child, QStringLiteral("crash"), dir.path()), child.readAllStandardOutput().constData());
    QVERIFY(child.waitForFinished(10000));
    QCOMPARE(child.exitCode(), 3);
    // What a crash leaves behind: the lock file with a dead PID and (Unix) the socket file.
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("trackerdesk.lock"))));
#ifdef Q_OS_UNIX
    QVERIFY(QFile::exists(QDir::temp().filePath(InstanceServer::socketName(dir.path()))));
#endif
    QVERIFY(!send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}}, 1000).reply);

    InstanceServer server;
    QString error;
    QVERIFY2(server.listen(dir.path(), &error), qPrintable(error));
    QSignalSpy spy(&server, &InstanceServer::activateRequested);
    const Sent s = send(dir.path(), {{QStringLiteral("command"), QStringLiteral("activate")}});
    QVERIFY2(s.reply, qPrintable(s.error));
    QCOMPARE(spy.count(), 1);
}

int main(int argc, char **argv) {
    if (qEnvironmentVariableIsSet("TD_INSTANCE_CHILD"))
        return childMain(argc, argv);
    QCoreApplication app(argc, argv);
    TestInstance t;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&t, argc, argv);
}

#include "tst_instance.moc"
