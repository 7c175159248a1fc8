# The two commands of the README:
#   make demo   set-up, then measure layer-wise learning rates of a ResNet-20 on Fashion-MNIST and train uniform vs layer-wise
#   make test   set-up, then every test of every package
.PHONY: setup demo test bench clean

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup
	npm test

bench:
	bash scripts/setup.sh --bench
	npm run bench

clean:
	rm -rf node_modules packages/*/dist packages/*/build
