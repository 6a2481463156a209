from mnist_core.cli import main

raise SystemExit(main())
