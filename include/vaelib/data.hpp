#pragma once
// Data: IDX files, MNIST / Fashion-MNIST, CIFAR-10, per-channel normalisation, batches and binarisation.

#include "vaelib/data/batches.hpp"
#include "vaelib/data/byte_image_set.hpp"
#include "vaelib/data/channel_normalization.hpp"
#include "vaelib/data/cifar10.hpp"
#include "vaelib/data/idx.hpp"
#include "vaelib/data/image_set.hpp"
#include "vaelib/data/mnist.hpp"
