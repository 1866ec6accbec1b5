/** Hardened JSON parsing shared by every package that reads untrusted bytes. A leaf: depends on nothing of ours. */
package dev.sluice.json;
