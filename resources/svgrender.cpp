// Build-time tool: renders the application icon (SVG) to the PNG sizes of the hicolor icon
// theme, and to .ico / .icns for the Windows and macOS installers.
//   td_svgrender ICON.svg OUTDIR SIZE...     -> OUTDIR/SIZExSIZE/apps/NAME.png
//   td_svgrender ICON.svg FILE.png|FILE.ico|FILE.icns SIZE  -> that one file
#include <QCoreApplication>
#include <QFileInfo>
#include <QDir>
#include <QImage>
#include <QImageWriter>
#include <QPainter>
#include <QSvgRenderer>

#include <cstdio>

static int fail(const QString &message) {
    std::fprintf(stderr, "td_svgrender: error: %s\n", qPrintable(message));
    return 1;
}

static QImage render(QSvgRenderer &svg, int size) {
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    svg.render(&p, QRectF(0, 0, size, size));
    p.end();
    return image;
}

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 4)
        return fail(QStringLiteral("usage: td_svgrender ICON.svg OUTDIR|FILE.png|FILE.ico|FILE.icns SIZE..."));
    QSvgRenderer svg(args[1]);
    if (!svg.isValid())
        return fail(QStringLiteral("cannot read the SVG %1").arg(args[1]));
    const QString name = QFileInfo(args[1]).completeBaseName();
    const QString target = args[2];
    const bool single = target.endsWith(QLatin1String(".png")) || target.endsWith(QLatin1String(".ico"))
                        || target.endsWith(QLatin1String(".icns"));
    for (int i = 3; i < args.size(); ++i) {
        bool ok = false;
        const int size = args[i].toInt(&ok);
        if (!ok || size < 8 || size > 1024)
            return fail(QStringLiteral("size '%1' is not a number from 8 to 1024").arg(args[i]));
        const QString file = single ? target : QStringLiteral("%1/%2x%2/apps/%3.png").arg(target).arg(size).arg(name);
        if (!QDir().mkpath(QFileInfo(file).absolutePath()))
            return fail(QStringLiteral("cannot create the folder of %1").arg(file));
        QImageWriter writer(file);
        if (!writer.write(render(svg, size)))
            return fail(QStringLiteral("cannot write %1: %2").arg(file, writer.errorString()));
        if (single)
            break;
    }
    return 0;
}
