#include "models/plan_text.h"

#include <QCoreApplication>
#include <QStringList>

namespace gd::ui {

namespace {
QString tr(const char* text) { return QCoreApplication::translate("PlanText", text); }
}  // namespace

QString planContextText(qint64 tokens) {
    if (tokens >= 1024 && tokens % 1024 == 0) return tr("%1K context").arg(tokens / 1024);
    return tr("%1-token context").arg(tokens);
}

QString planTypeText(gd::DType type) { return QString::fromLatin1(gd::dtype_name(type)).toUpper(); }

QString planLine(const gd::FitPlan& p) {
    if (!p.fits) return tr("Does not fit");
    QString s;
    switch (p.device) {
    case gd::PlanDevice::Gpu: s = tr("Fits on the GPU"); break;
    case gd::PlanDevice::Split:
        s = tr("Fits with offload (%1 of %2 layers on the GPU)").arg(p.gpu_layers).arg(p.num_layers);
        break;
    case gd::PlanDevice::Cpu: s = tr("CPU only"); break;
    }
    s += QStringLiteral(" · ") + planContextText(p.context);
    if (p.load_time_quantization) s += QStringLiteral(" · ") + tr("quantized to %1 when loaded").arg(planTypeText(p.weight_type));
    return s;
}

QString planBytes(quint64 bytes) {
    const double mib = double(bytes) / (1024.0 * 1024.0);
    if (mib >= 1024.0) return tr("%1 GiB").arg(mib / 1024.0, 0, 'f', 1);
    if (mib >= 1.0) return tr("%1 MiB").arg(mib, 0, 'f', 0);
    return tr("%1 KiB").arg(double(bytes) / 1024.0, 0, 'f', 0);
}

QString planMemoryLine(const gd::FitPlan& p) {
    QStringList gpu, ram;
    for (const gd::MemoryPart& part : p.memory.parts) {
        const QString name = QString::fromStdString(part.name);
        if (part.gpu) gpu << QStringLiteral("%1 %2").arg(name, planBytes(part.gpu));
        if (part.host) ram << QStringLiteral("%1 %2").arg(name, planBytes(part.host));
    }
    QString s;
    if (!gpu.isEmpty())
        s += tr("On the GPU: %1 (%2).").arg(gpu.join(QStringLiteral(", ")), planBytes(p.memory.gpu_total())) + QLatin1Char(' ');
    if (!ram.isEmpty()) s += tr("In RAM: %1 (%2).").arg(ram.join(QStringLiteral(", ")), planBytes(p.memory.host_total()));
    return s.trimmed();
}

QString planToolTip(const gd::FitPlan& p) {
    auto cell = [](quint64 bytes) { return bytes ? planBytes(bytes) : QStringLiteral("–"); };
    QString html = QStringLiteral("<p><b>%1</b></p><p>%2</p>")
                       .arg(planLine(p).toHtmlEscaped(), QString::fromStdString(p.why).toHtmlEscaped());
    if (p.load_time_quantization)
        html += QStringLiteral("<p>%1</p>").arg(
            tr("The files hold %1 weights; this plan needs them as %2. "
               "<code>gemmadesk-cli quantize</code> saves such a copy.")
                .arg(planTypeText(p.stored_type), planTypeText(p.weight_type)));
    html += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"2\">"
                           "<tr><th align=\"left\">%1</th><th align=\"right\">%2</th><th align=\"right\">%3</th></tr>")
                .arg(tr("Part"), tr("GPU"), tr("RAM"));
    for (const gd::MemoryPart& part : p.memory.parts) {
        QString name = QString::fromStdString(part.name).toHtmlEscaped();
        if (!part.note.empty())
            name += QStringLiteral(" <span style=\"color:#777\">(%1)</span>").arg(QString::fromStdString(part.note).toHtmlEscaped());
        html += QStringLiteral("<tr><td>%1</td><td align=\"right\">%2</td><td align=\"right\">%3</td></tr>")
                    .arg(name, cell(part.gpu), cell(part.host));
    }
    html += QStringLiteral("<tr><td><b>%1</b></td><td align=\"right\"><b>%2</b></td><td align=\"right\"><b>%3</b></td></tr>")
                .arg(tr("total"), cell(p.memory.gpu_total()), cell(p.memory.host_total()));
    html += QStringLiteral("<tr><td>%1</td><td align=\"right\">%2</td><td align=\"right\">%3</td></tr></table>")
                .arg(tr("usable on this machine"), cell(p.gpu_budget), cell(p.ram_budget));
    return html;
}

}  // namespace gd::ui
