#pragma once
// What every backend's upload_weight does before placing the bytes: the shape as [experts,] rows,
// cols (leading size-1 dimensions dropped), the stored row size, the check that the type is one we
// compute with and that the byte count matches, and small vectors decoded to f32.
#include "backend/backend.h"

namespace gd {

// A Weight with name, type, shape, row_bytes and (for vectors) f32 filled; no memory placed yet.
// Throws ModelError for more than 3 dimensions, a type we cannot compute with, or a size mismatch.
Weight describe_weight(const TensorView& view);

}  // namespace gd
