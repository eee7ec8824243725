#include "widgets/hexview.h"

#include <QFontDatabase>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>

namespace td::ui {

HexView::HexView(QWidget *parent) : QAbstractScrollArea(parent) {
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    viewport()->setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
}

void HexView::setData(const QByteArray &bytes) {
    m_bytes = bytes;
    m_selOffset = m_selLength = m_hoverOffset = m_hoverLength = 0;
    updateScrollBars();
    verticalScrollBar()->setValue(0);
    viewport()->update();
}

void HexView::setHighlight(int offset, int length) {
    m_selOffset = offset;
    m_selLength = length;
    if (length > 0) {  // keep the selection visible
        const int line = offset / 16;
        QScrollBar *sb = verticalScrollBar();
        const int visible = qMax(1, viewport()->height() / lineHeight());
        if (line < sb->value() || line >= sb->value() + visible)
            sb->setValue(line);
    }
    viewport()->update();
}

void HexView::setHoverHighlight(int offset, int length) {
    m_hoverOffset = offset;
    m_hoverLength = length;
    viewport()->update();
}

int HexView::charWidth() const { return fontMetrics().horizontalAdvance(QLatin1Char('0')); }
int HexView::lineHeight() const { return fontMetrics().height() + 2; }
// Layout: "0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  ................"
int HexView::hexColumnX(int col) const { return charWidth() * (6 + col * 3 + (col >= 8 ? 1 : 0)); }
int HexView::asciiColumnX(int col) const { return charWidth() * (6 + 16 * 3 + 2 + col); }

QSize HexView::sizeHint() const {
    return QSize(asciiColumnX(16) + charWidth() * 2 + verticalScrollBar()->sizeHint().width(), lineHeight() * 8);
}

void HexView::updateScrollBars() {
    const int visible = qMax(1, viewport()->height() / lineHeight());
    verticalScrollBar()->setRange(0, qMax(0, lineCount() - visible));
    verticalScrollBar()->setPageStep(visible);
    horizontalScrollBar()->setRange(0, qMax(0, asciiColumnX(16) + charWidth() - viewport()->width()));
}

void HexView::resizeEvent(QResizeEvent *e) {
    QAbstractScrollArea::resizeEvent(e);
    updateScrollBars();
}

int HexView::offsetAt(const QPoint &p) const {
    const int x = p.x() + horizontalScrollBar()->value();
    const int line = p.y() / lineHeight() + verticalScrollBar()->value();
    int col = -1;
    for (int c = 0; c < 16; ++c) {
        if (x >= hexColumnX(c) && x < hexColumnX(c) + charWidth() * 2) { col = c; break; }
        if (x >= asciiColumnX(c) && x < asciiColumnX(c) + charWidth()) { col = c; break; }
    }
    const int off = line * 16 + col;
    return (col < 0 || line < 0 || off >= m_bytes.size()) ? -1 : off;
}

void HexView::mousePressEvent(QMouseEvent *e) {
    const int off = offsetAt(e->position().toPoint());
    if (off >= 0)
        emit byteClicked(off);
}

void HexView::mouseMoveEvent(QMouseEvent *e) { emit byteHovered(offsetAt(e->position().toPoint())); }
void HexView::leaveEvent(QEvent *) { emit byteHovered(-1); }

void HexView::paintEvent(QPaintEvent *) {
    QPainter p(viewport());
    const QPalette pal = palette();
    p.fillRect(viewport()->rect(), pal.base());
    p.setFont(font());
    const int lh = lineHeight(), cw = charWidth();
    const int first = verticalScrollBar()->value();
    const int dx = -horizontalScrollBar()->value();
    const int ascent = fontMetrics().ascent() + 1;
    const QColor selBg = pal.highlight().color();
    const QColor selFg = pal.highlightedText().color();
    QColor hoverBg = selBg;
    hoverBg.setAlpha(70);
    for (int line = first; line < lineCount(); ++line) {
        const int y = (line - first) * lh;
        if (y > viewport()->height())
            break;
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(dx, y + ascent, QStringLiteral("%1").arg(line * 16, 4, 16, QLatin1Char('0')));
        for (int c = 0; c < 16; ++c) {
            const int off = line * 16 + c;
            if (off >= m_bytes.size())
                break;
            const bool sel = m_selLength > 0 && off >= m_selOffset && off < m_selOffset + m_selLength;
            const bool hov = m_hoverLength > 0 && off >= m_hoverOffset && off < m_hoverOffset + m_hoverLength;
            const uchar b = uchar(m_bytes.at(off));
            const QRect hexRect(dx + hexColumnX(c), y, cw * 2, lh);
            const QRect ascRect(dx + asciiColumnX(c), y, cw, lh);
            if (sel || hov) {
                const QColor bg = sel ? selBg : hoverBg;
                p.fillRect(hexRect, bg);
                p.fillRect(ascRect, bg);
            }
            p.setPen(sel ? selFg : pal.color(QPalette::Text));
            p.drawText(hexRect.x(), y + ascent, QStringLiteral("%1").arg(b, 2, 16, QLatin1Char('0')));
            p.drawText(ascRect.x(), y + ascent, (b >= 0x20 && b < 0x7f) ? QString(QLatin1Char(char(b))) : QStringLiteral("·"));
        }
    }
}

} // namespace td::ui
