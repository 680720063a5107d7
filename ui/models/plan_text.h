#pragma once
// What the picker says about a fit plan (catalog/fit_plan.h): the one-line verdict ("Fits on the
// GPU · 32K context"), the context in words, and the tooltip with the planner's reasons and the
// memory each part needs on the GPU and in RAM.
#include <QString>
#include "catalog/fit_plan.h"

namespace gd::ui {

// "32K context", "128K context", "3000-token context".
QString planContextText(qint64 tokens);
// "Q4_K", "BF16": a weight type as the picker names it.
QString planTypeText(gd::DType type);
// "Fits on the GPU · 32K context", "Fits with offload (20 of 35 layers on the GPU) · 8K context",
// "CPU only · 4K context · quantized to Q4_K when loaded", "Does not fit".
QString planLine(const gd::FitPlan& plan);
// "6.1 GiB", "420 MiB": binary units, as the planner's reasons use.
QString planBytes(quint64 bytes);
// One line of the parts by side: "On the GPU: text weights 4.1 GiB, KV cache 800 MiB, … (5.6 GiB).
// In RAM: per-layer embedding table 2.3 GiB, runtime 256 MiB (2.6 GiB)."
QString planMemoryLine(const gd::FitPlan& plan);
// Rich text: the planner's reasons, then a table of the parts (weights, per-layer embedding table,
// towers, KV cache, activations, logits, CUDA context, runtime) with GPU and RAM bytes and totals.
QString planToolTip(const gd::FitPlan& plan);

}  // namespace gd::ui
