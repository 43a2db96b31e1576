;; Transposes a band of a matrix's rows into the matching part of its transpose, for 2- and 4-byte
;; elements, with SIMD: the hot loop of comparing a tensor with a transposed copy (a tied embedding's
;; output head). In JavaScript the same loop runs interpreted until V8 has optimized it, which took
;; longer than the whole loop does here; WebAssembly is compiled before it starts.
;;
;; Compiled by scripts/gen-transpose-wasm.ts into transpose-wasm.generated.ts (test/transpose.test.ts
;; checks it is current); src/onnx/transpose.ts calls it. Contract of t16 and t32, with element
;; indices (addresses are byte offsets into the memory):
;;   out[(c - c0) * rows + r] = band[(r - r0) * cols + c]   for r0 <= r < r1, c0 <= c < c1
;; band holds rows r0..r1 of a rows x cols matrix; out holds rows c0..c1 of its transpose (cols x rows).
;; Work goes in 64 x 64 tiles (the strided side stays in the cache), and in 4 x 4 (t32) or 8 x 8 (t16)
;; blocks moved with shuffles; the rows and columns left over go one element at a time ($rect32/$rect16).
(module
  (import "env" "memory" (memory 1))

  ;; Rows rA..rB and columns cA..cB, one element at a time (4-byte elements).
  (func $rect32 (param $band i32) (param $out i32) (param $r0 i32) (param $c0 i32) (param $rows i32)
                (param $cols i32) (param $rA i32) (param $rB i32) (param $cA i32) (param $cB i32)
    (local $c i32) (local $r i32) (local $src i32) (local $dst i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $c (local.get $cA))
    (block $done (loop $column
      (br_if $done (i32.ge_u (local.get $c) (local.get $cB)))
      (local.set $src (i32.add (local.get $band) (i32.shl
        (i32.add (i32.mul (i32.sub (local.get $rA) (local.get $r0)) (local.get $cols)) (local.get $c))
        (i32.const 2))))
      (local.set $dst (i32.add (local.get $out) (i32.shl
        (i32.add (i32.mul (i32.sub (local.get $c) (local.get $c0)) (local.get $rows)) (local.get $rA))
        (i32.const 2))))
      (local.set $r (local.get $rA))
      (block $column_done (loop $row
        (br_if $column_done (i32.ge_u (local.get $r) (local.get $rB)))
        (i32.store (local.get $dst) (i32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $column))))

  ;; The same for 2-byte elements.
  (func $rect16 (param $band i32) (param $out i32) (param $r0 i32) (param $c0 i32) (param $rows i32)
                (param $cols i32) (param $rA i32) (param $rB i32) (param $cA i32) (param $cB i32)
    (local $c i32) (local $r i32) (local $src i32) (local $dst i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 1)))
    (local.set $c (local.get $cA))
    (block $done (loop $column
      (br_if $done (i32.ge_u (local.get $c) (local.get $cB)))
      (local.set $src (i32.add (local.get $band) (i32.shl
        (i32.add (i32.mul (i32.sub (local.get $rA) (local.get $r0)) (local.get $cols)) (local.get $c))
        (i32.const 1))))
      (local.set $dst (i32.add (local.get $out) (i32.shl
        (i32.add (i32.mul (i32.sub (local.get $c) (local.get $c0)) (local.get $rows)) (local.get $rA))
        (i32.const 1))))
      (local.set $r (local.get $rA))
      (block $column_done (loop $row
        (br_if $column_done (i32.ge_u (local.get $r) (local.get $rB)))
        (i32.store16 (local.get $dst) (i32.load16_u (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $column))))

  ;; 4-byte elements: 4 x 4 blocks.
  (func (export "t32") (param $band i32) (param $out i32) (param $r0 i32) (param $r1 i32)
                       (param $c0 i32) (param $c1 i32) (param $rows i32) (param $cols i32)
    (local $rM i32) (local $cM i32) (local $rt i32) (local $ct i32) (local $rEnd i32) (local $cEnd i32)
    (local $r i32) (local $c i32) (local $src i32) (local $dst i32) (local $rowBytes i32) (local $colBytes i32)
    (local $a v128) (local $b v128) (local $x v128) (local $y v128)
    (local $ab_lo v128) (local $ab_hi v128) (local $xy_lo v128) (local $xy_hi v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $colBytes (i32.shl (local.get $rows) (i32.const 2)))
    ;; rM, cM: where the rows and columns that fill whole 4 x 4 blocks end.
    (local.set $rM (i32.add (local.get $r0) (i32.and (i32.sub (local.get $r1) (local.get $r0)) (i32.const -4))))
    (local.set $cM (i32.add (local.get $c0) (i32.and (i32.sub (local.get $c1) (local.get $c0)) (i32.const -4))))
    (local.set $rt (local.get $r0))
    (block $done (loop $row_tiles
      (br_if $done (i32.ge_u (local.get $rt) (local.get $rM)))
      (local.set $rEnd (select (local.get $rM) (i32.add (local.get $rt) (i32.const 64))
                               (i32.lt_u (local.get $rM) (i32.add (local.get $rt) (i32.const 64)))))
      (local.set $ct (local.get $c0))
      (block $row_tiles_done (loop $column_tiles
        (br_if $row_tiles_done (i32.ge_u (local.get $ct) (local.get $cM)))
        (local.set $cEnd (select (local.get $cM) (i32.add (local.get $ct) (i32.const 64))
                                 (i32.lt_u (local.get $cM) (i32.add (local.get $ct) (i32.const 64)))))
        (local.set $c (local.get $ct))
        (block $tile_done (loop $columns
          (br_if $tile_done (i32.ge_u (local.get $c) (local.get $cEnd)))
          (local.set $src (i32.add (local.get $band) (i32.shl
            (i32.add (i32.mul (i32.sub (local.get $rt) (local.get $r0)) (local.get $cols)) (local.get $c))
            (i32.const 2))))
          (local.set $dst (i32.add (local.get $out) (i32.shl
            (i32.add (i32.mul (i32.sub (local.get $c) (local.get $c0)) (local.get $rows)) (local.get $rt))
            (i32.const 2))))
          (local.set $r (local.get $rt))
          (block $columns_done (loop $rows
            (br_if $columns_done (i32.ge_u (local.get $r) (local.get $rEnd)))
            ;; Rows a, b, x, y of columns c..c+3; out gets columns c..c+3 of rows r..r+3.
            (local.set $a (v128.load (local.get $src)))
            (local.set $b (v128.load (i32.add (local.get $src) (local.get $rowBytes))))
            (local.set $x (v128.load (i32.add (local.get $src) (i32.shl (local.get $rowBytes) (i32.const 1)))))
            (local.set $y (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            ;; ab_lo = a0 b0 a1 b1, ab_hi = a2 b2 a3 b3 (and the same of x, y)
            (local.set $ab_lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
            (local.set $ab_hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
            (local.set $xy_lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x) (local.get $y)))
            (local.set $xy_hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x) (local.get $y)))
            ;; column k = a_k b_k x_k y_k
            (v128.store (local.get $dst)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab_lo) (local.get $xy_lo)))
            (v128.store (i32.add (local.get $dst) (local.get $colBytes))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab_lo) (local.get $xy_lo)))
            (v128.store (i32.add (local.get $dst) (i32.shl (local.get $colBytes) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab_hi) (local.get $xy_hi)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $colBytes) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab_hi) (local.get $xy_hi)))
            (local.set $src (i32.add (local.get $src) (i32.shl (local.get $rowBytes) (i32.const 2))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $rows)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $columns)))
        (local.set $ct (i32.add (local.get $ct) (i32.const 64)))
        (br $column_tiles)))
      (local.set $rt (i32.add (local.get $rt) (i32.const 64)))
      (br $row_tiles)))
    ;; The columns past cM of every row, then the rows past rM of the other columns.
    (call $rect32 (local.get $band) (local.get $out) (local.get $r0) (local.get $c0) (local.get $rows)
                  (local.get $cols) (local.get $r0) (local.get $r1) (local.get $cM) (local.get $c1))
    (call $rect32 (local.get $band) (local.get $out) (local.get $r0) (local.get $c0) (local.get $rows)
                  (local.get $cols) (local.get $rM) (local.get $r1) (local.get $c0) (local.get $cM)))

  ;; 2-byte elements: 8 x 8 blocks, in three rounds of interleaving (16-, 32-, then 64-bit lanes).
  (func (export "t16") (param $band i32) (param $out i32) (param $r0 i32) (param $r1 i32)
                       (param $c0 i32) (param $c1 i32) (param $rows i32) (param $cols i32)
    (local $rM i32) (local $cM i32) (local $rt i32) (local $ct i32) (local $rEnd i32) (local $cEnd i32)
    (local $r i32) (local $c i32) (local $src i32) (local $dst i32) (local $rowBytes i32) (local $colBytes i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $s4 v128) (local $s5 v128) (local $s6 v128) (local $s7 v128)
    (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 1)))
    (local.set $colBytes (i32.shl (local.get $rows) (i32.const 1)))
    (local.set $rM (i32.add (local.get $r0) (i32.and (i32.sub (local.get $r1) (local.get $r0)) (i32.const -8))))
    (local.set $cM (i32.add (local.get $c0) (i32.and (i32.sub (local.get $c1) (local.get $c0)) (i32.const -8))))
    (local.set $rt (local.get $r0))
    (block $done (loop $row_tiles
      (br_if $done (i32.ge_u (local.get $rt) (local.get $rM)))
      (local.set $rEnd (select (local.get $rM) (i32.add (local.get $rt) (i32.const 64))
                               (i32.lt_u (local.get $rM) (i32.add (local.get $rt) (i32.const 64)))))
      (local.set $ct (local.get $c0))
      (block $row_tiles_done (loop $column_tiles
        (br_if $row_tiles_done (i32.ge_u (local.get $ct) (local.get $cM)))
        (local.set $cEnd (select (local.get $cM) (i32.add (local.get $ct) (i32.const 64))
                                 (i32.lt_u (local.get $cM) (i32.add (local.get $ct) (i32.const 64)))))
        (local.set $c (local.get $ct))
        (block $tile_done (loop $columns
          (br_if $tile_done (i32.ge_u (local.get $c) (local.get $cEnd)))
          (local.set $src (i32.add (local.get $band) (i32.shl
            (i32.add (i32.mul (i32.sub (local.get $rt) (local.get $r0)) (local.get $cols)) (local.get $c))
            (i32.const 1))))
          (local.set $dst (i32.add (local.get $out) (i32.shl
            (i32.add (i32.mul (i32.sub (local.get $c) (local.get $c0)) (local.get $rows)) (local.get $rt))
            (i32.const 1))))
          (local.set $r (local.get $rt))
          (block $columns_done (loop $rows
            (br_if $columns_done (i32.ge_u (local.get $r) (local.get $rEnd)))
            ;; Rows 0..7 (p..w below) of columns c..c+7, interleaved in 16-bit lanes:
            ;; s0 = p0 q0 p1 q1 p2 q2 p3 q3, s1 = p4 q4 .. p7 q7; s2, s3 of rows 2, 3; ...
            (local.set $u0 (v128.load (local.get $src)))
            (local.set $u1 (v128.load (i32.add (local.get $src) (local.get $rowBytes))))
            (local.set $s0 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $u0) (local.get $u1)))
            (local.set $s1 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $u0) (local.get $u1)))
            (local.set $u0 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 2)))))
            (local.set $u1 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            (local.set $s2 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $u0) (local.get $u1)))
            (local.set $s3 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $u0) (local.get $u1)))
            (local.set $u0 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 4)))))
            (local.set $u1 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 5)))))
            (local.set $s4 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $u0) (local.get $u1)))
            (local.set $s5 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $u0) (local.get $u1)))
            (local.set $u0 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 6)))))
            (local.set $u1 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 7)))))
            (local.set $s6 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $u0) (local.get $u1)))
            (local.set $s7 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $u0) (local.get $u1)))
            ;; 32-bit lanes: u0 = columns 0, 1 of rows 0..3 (p0 q0 r0 s0 p1 q1 r1 s1), u1 columns 2, 3,
            ;; u2 columns 4, 5, u3 columns 6, 7; v0..v3 the same of rows 4..7.
            (local.set $u0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s0) (local.get $s2)))
            (local.set $u1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s0) (local.get $s2)))
            (local.set $u2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s1) (local.get $s3)))
            (local.set $u3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s1) (local.get $s3)))
            (local.set $v0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s4) (local.get $s6)))
            (local.set $v1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s4) (local.get $s6)))
            (local.set $v2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s5) (local.get $s7)))
            (local.set $v3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s5) (local.get $s7)))
            ;; 64-bit lanes: column k = rows 0..3 from u, rows 4..7 from v.
            (v128.store (local.get $dst)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $v0)))
            (v128.store (i32.add (local.get $dst) (local.get $colBytes))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $v0)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $colBytes) (i32.const 2)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u1) (local.get $v1)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $colBytes) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u1) (local.get $v1)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $colBytes) (i32.const 4)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u2) (local.get $v2)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $colBytes) (i32.const 5)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u2) (local.get $v2)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $colBytes) (i32.const 6)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u3) (local.get $v3)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $colBytes) (i32.const 7)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u3) (local.get $v3)))
            (local.set $src (i32.add (local.get $src) (i32.shl (local.get $rowBytes) (i32.const 3))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $r (i32.add (local.get $r) (i32.const 8)))
            (br $rows)))
          (local.set $c (i32.add (local.get $c) (i32.const 8)))
          (br $columns)))
        (local.set $ct (i32.add (local.get $ct) (i32.const 64)))
        (br $column_tiles)))
      (local.set $rt (i32.add (local.get $rt) (i32.const 64)))
      (br $row_tiles)))
    (call $rect16 (local.get $band) (local.get $out) (local.get $r0) (local.get $c0) (local.get $rows)
                  (local.get $cols) (local.get $r0) (local.get $r1) (local.get $cM) (local.get $c1))
    (call $rect16 (local.get $band) (local.get $out) (local.get $r0) (local.get $c0) (local.get $rows)
                  (local.get $cols) (local.get $rM) (local.get $r1) (local.get $c0) (local.get $cM)))
)
