"""Packaging detail pyproject.toml cannot express: the repo's contracts/ and fixtures/ folders
are installed as ``mockserver.contracts`` and ``mockserver.fixtures``."""

from setuptools import find_packages, setup

MAPPED = {"mockserver.contracts": "contracts", "mockserver.fixtures": "fixtures"}
DATA = [
    "*.yaml",
    "*.json",
    "*.md",
    "*.png",
    "*.jpg",
    "*.webp",
    "*.mp4",
    "*.mp3",
    "*.wav",
    "*.zip",
    "*.pem",
]

packages = find_packages(include=["mockserver", "mockserver.*"])
package_dir = dict(MAPPED)
for name, folder in MAPPED.items():
    packages.append(name)
    for sub in find_packages(where=folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={name: DATA for name in packages},
)
