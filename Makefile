# Occam's entry points. `make demo` and `make test` work on a fresh Debian machine with Swift installed:
# they install missing system packages (as root) and build what they need.

SWIFT ?= swift
OCCAM := .build/release/occam

.PHONY: demo train curvature evidence flatness saddles connectivity min-norm kernel kernel-full randomize randomize-table memorize double-descent double-descent-samples double-descent-networks critical-period early-phase distill simplicity simplicity-paper simplicity-perceptron reproduce test bench system-packages build clean

system-packages:
	@scripts/install-system-packages.sh

build: system-packages
	$(SWIFT) build -c release --product occam

# Occam's main job on the default data set: a short lottery-ticket study of LeNet-300-100 on Fashion-MNIST
# (12 pruning rounds down to 6.9% of the weights, both controls, 2000 iterations per run; a few minutes on
# 2 cores). Running it again finds the finished study in runs/ and prints its table and report path.
demo: build
	$(OCCAM) lottery --model lenet-300-100 --dataset fashion-mnist --levels 12 --steps 2000it --eval-every 200it --out runs

# The Hessian of the trained LeNet-300-100 (the `make train` run) on 5,000 training images: top and bottom
# eigenvalues, trace, spectral density; about 2 minutes on 2 cores, training included.
curvature: train
	$(OCCAM) curvature --checkpoint "$$(ls -t runs/lenet-300-100-fashion-mnist-*/final.safetensors | head -1)" --samples 5000 --top 10 --bottom 5 --trace --density --out runs

# The Laplace evidence of the trained LeNet-300-100 (the `make train` run): GGN, top 20 eigenvalues on 5,000
# training images, MacKay's prior precision; about 20 seconds after training.
evidence: train
	$(OCCAM) evidence --checkpoint "$$(ls -t runs/lenet-300-100-fashion-mnist-*/final.safetensors | head -1)" --samples 5000 --out runs

# Sharp against flat: MLP 784-128-10 at batch 64 and 4096 for 50 epochs, 3 replicates, with Dinh et al.'s rescaling
# (alpha 0.1 and 10) of every network; about a minute and a half on 2 cores.
flatness: build
	$(OCCAM) flatness --out runs

# Saddle points (Dauphin et al. 2014): critical points of a 630-parameter tanh MLP with exact Hessian spectra
# (index against error), and SGD, damped Newton and saddle-free Newton from the same start.
saddles: build
	$(OCCAM) saddles --compare-optimizers --out runs

# Linear mode connectivity of LeNet-300-100 at initialization, with differently initialized copies as the control.
connectivity: build
	$(OCCAM) connectivity --spawn-step 0it --steps 3000it --different-init --train-eval-size 10000 --out runs

# One LeNet-300-100 on Fashion-MNIST for 5 epochs (Adam 1.2e-3, batch 60).
train: build
	$(OCCAM) train --model lenet-300-100 --dataset fashion-mnist --steps 5ep --batch-size 60 --optimizer adam --lr 1.2e-3 --out runs

# The minimum-norm interpolation experiment (Zhang et al. 2017, Sec. 5).
min-norm: build
	$(OCCAM) min-norm

# Exact kernel interpolation (Zhang et al. 2017, Sec. 5): Gaussian kernel, bandwidth 5, n = 1K-10K, with ridge
# 0.1 and random labels beside it; about a minute on 2 cores.
kernel: build
	$(OCCAM) kernel --train-sizes 1000,2000,5000,10000 --out runs

# The same up to all 60,000 training images, interpolating only (a 14.4 GB float32 kernel matrix; ~15 minutes).
kernel-full: build
	$(OCCAM) kernel --train-sizes 1000,2000,5000,10000,20000,60000 --ridge 0 --no-random-labels --out runs

# Fitting random labels (Zhang et al. 2017, Fig. 1): 9 conditions x 3 replicates of MLP 1x512 on 5,000 images.
randomize: build
	$(OCCAM) randomize --out runs

# Table 1's shape: weight decay, dropout and augmentation, alone and together, on true and random labels.
randomize-table: build
	$(OCCAM) randomize --condition true-labels --condition random-labels --regularizers weight-decay,dropout,augmentation --replicates 1 --out runs

# Zhang et al.'s Theorem 1: a 2n + d-weight ReLU network that memorizes random labels of 10,000 images.
memorize: build
	$(OCCAM) memorize --samples 10000 --out runs

# Double descent with random Fourier features (Belkin et al. 2019, Fig. 2): n = 1,000, N = 50-10,000, 3 draws each
# (about a minute and a half on 2 cores), and the same at N = 1,000 over n = 100-10,000.
double-descent: build
	$(OCCAM) double-descent features --out runs

double-descent-samples: build
	$(OCCAM) double-descent features --sample-wise --out runs

# Double descent in width (Nakkiran et al. 2020): MLP 784-H-10, H = 2-512, 20% label noise, 4,000 images, 300 epochs,
# 3 replicates, two runs at a time; the replicates' ensemble at every width, the (width, epoch) test-error heat map and
# early-stopped errors in the report.
double-descent-networks: build
	$(OCCAM) double-descent networks --ensemble --out runs

# Critical learning periods (Achille et al. 2019) at CPU scale: lenet-5 on 5,000 Fashion-MNIST images, blur deficits of
# 0-40 epochs and 10-epoch windows, 3 replicates, the Fisher trace every epoch.
critical-period: build
	$(OCCAM) critical-period --out runs

# The early phase of training (Frankle, Schwab & Morcos 2020): LeNet-300-100 on Fashion-MNIST, a ticket rewound to
# k = 0, 100, 500, 2000 against signs kept, magnitudes kept, permuted and fresh starting points, 3 replicates.
early-phase: build
	$(OCCAM) early-phase --out runs

# Distillation (Hinton et al. 2015) at CPU scale: a 1200-1200 teacher with dropout and jitter, 800-800 students on
# 10,000 Fashion-MNIST images for 20 epochs, hard labels against soft targets at T = 2, 5, 20, 3 replicates.
distill: build
	$(OCCAM) distill --out runs

# Simplicity bias of random networks (Valle-Perez et al. 2019; De Palma et al. 2019): 2 x 10^7 random 7-40-40-1
# networks' functions on {0,1}^7 counted against their Lempel-Ziv complexity, and the Hamming robustness of
# n-256-256-1 networks for n = 16-784. `simplicity-paper` draws 10^8 networks as the paper; `simplicity-perceptron`
# is the exact check (bias-free perceptron, P(t ones) = 2^-n).
simplicity: build
	$(OCCAM) simplicity --out runs

simplicity-paper: build
	$(OCCAM) simplicity --paper --robustness-sizes none --out runs

simplicity-perceptron: build
	$(OCCAM) simplicity --perceptron --draws 10000000 --out runs

# Papers' numbers beside Occam's (`occam reproduce`, cpu scale): fetches MNIST if it is missing, runs each claim's
# study (finished ones are read from runs/) and writes runs/reproduce-cpu/reproduce.csv and index.html. The MNIST
# kernel claims (pixels and Gabor features) need about 15 GB of memory each, one after the other; all thirteen claims
# took 2 h 08 min on a fresh 2-core machine (2026-12-06).
reproduce: build
	scripts/fetch-data.sh mnist
	$(OCCAM) reproduce --out runs

test: system-packages
	@scripts/install-python-packages.sh
	$(SWIFT) test

# Speed against raw OpenBLAS, NumPy and PyTorch on this machine (see Benchmarks/).
bench: system-packages
	Benchmarks/run.sh

clean:
	rm -rf .build .build-*
